package io.mfserve.server.model.ann;

import io.mfserve.solver.FactorModel;

/**
 * A row-major copy of one side of a model's factors, for an HNSW graph to walk: the model keeps
 * its item factors in column blocks, where one item's vector is k reads from k arrays, and a
 * graph compares one row with another millions of times. In a model with biases an item row
 * carries its bias as one more coordinate, so that {@code [q, 1] · [v_i, b_i] = q · v_i + b_i}:
 * the item part of a prediction as one inner product. Also the inverse norm of each row's
 * factors, for cosine. Immutable.
 */
public final class RowVectors {
  /** Rows copied out of the model at a time (a bounded temporary buffer). */
  private static final int COPY_ROWS = 4096;

  private final int rows;
  private final int factors;
  private final int dim;
  private final float[] data;
  private final float[] inverseNorms;

  private RowVectors(int rows, int factors, int dim, float[] data, float[] inverseNorms) {
    this.rows = rows;
    this.factors = factors;
    this.dim = dim;
    this.data = data;
    this.inverseNorms = inverseNorms;
  }

  /** Returns the bytes a copy of {@code rows} rows of {@code factors} takes. */
  public static long estimateBytes(long rows, int factors, boolean bias) {
    return rows * (factors + (bias ? 1 : 0) + 1) * (long) Float.BYTES + 2 * 16;
  }

  /** Copies the item factors, with the item biases of a model that has them. */
  public static RowVectors items(FactorModel m) {
    int k = m.numFactors();
    boolean bias = m.hasBiases();
    int dim = k + (bias ? 1 : 0);
    int n = m.numItems();
    float[] data = new float[Math.multiplyExact(n, dim)];
    for (int from = 0; from < n; from += COPY_ROWS) {
      int to = Math.min(n, from + COPY_ROWS);
      float[] part = m.copyItemFactors(from, to);
      for (int i = from; i < to; i++) {
        System.arraycopy(part, (i - from) * k, data, i * dim, k);
        if (bias) {
          data[i * dim + k] = m.itemBias(i);
        }
      }
    }
    return new RowVectors(n, k, dim, data, inverseNorms(data, n, k, dim));
  }

  /** Copies the user factors (a user's bias does not change whom they resemble). */
  public static RowVectors users(FactorModel m) {
    int k = m.numFactors();
    int n = m.numUsers();
    float[] data = m.copyUserFactors(0, n);
    return new RowVectors(n, k, k, data, inverseNorms(data, n, k, k));
  }

  private static float[] inverseNorms(float[] data, int n, int k, int dim) {
    float[] inverse = new float[n];
    for (int r = 0; r < n; r++) {
      double s = 0;
      for (int f = 0; f < k; f++) {
        double x = data[r * dim + f];
        s += x * x;
      }
      inverse[r] = s > 0 ? (float) (1 / Math.sqrt(s)) : 0f;
    }
    return inverse;
  }

  /** Returns the number of rows. */
  public int rows() {
    return rows;
  }

  /** Returns k, the factors of a row (the coordinates before the bias). */
  public int factors() {
    return factors;
  }

  /** Returns the coordinates per row: k, or k + 1 with the item bias. */
  public int dim() {
    return dim;
  }

  /** Copies the factors of row r (k floats, no bias) into {@code out}. */
  public void copyFactors(int r, float[] out) {
    System.arraycopy(data, r * dim, out, 0, factors);
  }

  /** Returns 1 / ‖factors of row r‖, 0 for a zero vector. */
  float inverseNorm(int r) {
    return inverseNorms[r];
  }

  /** Returns the bias coordinate of row r, or 0 when rows have none. */
  float bias(int r) {
    return dim > factors ? data[r * dim + factors] : 0f;
  }

  /**
   * Returns {@code q · row r} over the first {@code n} coordinates with four partial sums:
   * fast, and rounded differently from the model's own dot products, so only for finding
   * candidates (see {@link #exactDot}).
   */
  float dot(float[] q, int r, int n) {
    int off = r * dim;
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int f = 0;
    for (; f + 3 < n; f += 4) {
      s0 += q[f] * data[off + f];
      s1 += q[f + 1] * data[off + f + 1];
      s2 += q[f + 2] * data[off + f + 2];
      s3 += q[f + 3] * data[off + f + 3];
    }
    for (; f < n; f++) {
      s0 += q[f] * data[off + f];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** Returns {@code row a · row b} over the first {@code n} coordinates, as {@link #dot}. */
  float dot(int a, int b, int n) {
    int oa = a * dim;
    int ob = b * dim;
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int f = 0;
    for (; f + 3 < n; f += 4) {
      s0 += data[oa + f] * data[ob + f];
      s1 += data[oa + f + 1] * data[ob + f + 1];
      s2 += data[oa + f + 2] * data[ob + f + 2];
      s3 += data[oa + f + 3] * data[ob + f + 3];
    }
    for (; f < n; f++) {
      s0 += data[oa + f] * data[ob + f];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * Returns {@code q · factors of row r} as the model forms every dot product (one float32
   * sum of float32 products in factor order, see {@link FactorModel#dotItemBlock}): the same
   * bits as an exact scan's, so a candidate's score is the exact score.
   */
  public float exactDot(float[] q, int r) {
    int off = r * dim;
    float dot = 0;
    for (int f = 0; f < factors; f++) {
      dot += q[f] * data[off + f];
    }
    return dot;
  }

  /** Returns the bytes held. */
  public long memoryBytes() {
    return estimateBytes(rows, factors, dim > factors);
  }
}
