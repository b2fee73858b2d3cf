package io.mfserve.solver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The data-scaled default rules: planted noise and biases recovered, degenerate shapes. */
class RatingStatisticsTest {
  /** Sparse ratings μ + b_u + b_i + noise on a seeded fraction of the pairs. */
  private static TrainingMatrix planted(int rows, int cols, double density, double userStd,
      double itemStd, double noise, double scale, long seed) {
    Random rnd = new Random(seed);
    double[] bu = new double[rows];
    double[] bi = new double[cols];
    for (int r = 0; r < rows; r++) {
      bu[r] = userStd * rnd.nextGaussian();
    }
    for (int c = 0; c < cols; c++) {
      bi[c] = itemStd * rnd.nextGaussian();
    }
    List<int[]> pairs = new ArrayList<>();
    List<Float> values = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        if (rnd.nextDouble() < density) {
          pairs.add(new int[] {r, c});
          values.add((float) (scale * (3 + bu[r] + bi[c] + noise * rnd.nextGaussian())));
        }
      }
    }
    int[] ri = new int[pairs.size()];
    int[] ci = new int[pairs.size()];
    float[] v = new float[pairs.size()];
    for (int n = 0; n < v.length; n++) {
      ri[n] = pairs.get(n)[0];
      ci[n] = pairs.get(n)[1];
      v[n] = values.get(n);
    }
    return TrainingMatrix.fromCoordinates(rows, cols, ri, ci, v, AbsentEntries.UNKNOWN);
  }

  private static void assertSensible(RatingStatistics s) {
    for (double v : new double[] {s.factorLambda(), s.weightedFactorLambda(), s.biasLambda(),
        s.meanEntriesPerLine()}) {
      assertTrue(Double.isFinite(v) && v > 0, s + " gives " + v);
    }
    assertTrue(s.biasLambda() <= 1e6, s.toString());
  }

  @Test
  void of_plantedBiasesAndNoise_recoversNoiseAndBiasVariances() {
    TrainingMatrix m = planted(600, 400, 0.2, 0.4, 0.6, 0.5, 1, 11);

    RatingStatistics s = RatingStatistics.of(m);

    // σ is the residual of the shrunk bias model: the noise, plus the biases' estimation error
    // (about σ²/n per bias with ≥ 80 entries a row), so slightly above 0.5.
    assertEquals(0.5, s.sigma(), 0.03);
    assertEquals(0.16, s.userBiasVariance(), 0.03);
    assertEquals(0.36, s.itemBiasVariance(), 0.06);
    assertEquals(s.sigma() * s.sigma() / ((0.16 + 0.36) / 2), s.biasLambda(),
        0.25 * s.biasLambda());
    // λ = σ(√(N/rows) + √(N/cols)) with N ≈ 0.2 · 600 · 400.
    double n = m.nnz();
    assertEquals(s.sigma() * (Math.sqrt(n / 600) + Math.sqrt(n / 400)), s.factorLambda(), 1e-9);
    // Uniform sampling: row lengths ~ Binomial, so Σ n²/N ≈ N/rows + 1 − density.
    assertEquals(n / 600 + 0.8, s.rowLengthPerEntry(), 2);
    assertEquals(n / 400 + 0.8, s.colLengthPerEntry(), 2);
    assertEquals(s.factorLambda() / (0.5 * (s.rowLengthPerEntry() + s.colLengthPerEntry())),
        s.weightedFactorLambda(), 1e-12);
  }

  @Test
  void of_ratingsOnAnotherScale_scalesLambdaNotBiasLambda() {
    RatingStatistics one = RatingStatistics.of(planted(200, 150, 0.3, 0.4, 0.5, 0.6, 1, 5));
    RatingStatistics ten = RatingStatistics.of(planted(200, 150, 0.3, 0.4, 0.5, 0.6, 10, 5));

    // The objective grows with the square of the scale, the factors' norms with it: λ scales
    // with the ratings, λ_b (a ratio of variances) does not.
    assertEquals(10 * one.factorLambda(), ten.factorLambda(), 1e-3 * ten.factorLambda());
    assertEquals(one.biasLambda(), ten.biasLambda(), 1e-3 * one.biasLambda());
  }

  @Test
  void of_denserData_higherLambda() {
    RatingStatistics sparse = RatingStatistics.of(planted(300, 300, 0.05, 0.4, 0.5, 0.6, 1, 2));
    RatingStatistics dense = RatingStatistics.of(planted(300, 300, 0.5, 0.4, 0.5, 0.6, 1, 2));
    // √(entries per row): ten times the density, about √10 times λ.
    assertEquals(Math.sqrt(10), dense.factorLambda() / sparse.factorLambda(), 0.35);
  }

  @Test
  void of_degenerateShapes_finiteAndPositive() {
    // 1 × 1, one value: no residual, no bias variance; the floors keep every rule finite.
    RatingStatistics single = RatingStatistics.of(TrainingMatrix.fromCoordinates(1, 1,
        new int[] {0}, new int[] {0}, new float[] {4}, AbsentEntries.UNKNOWN));
    assertSensible(single);
    assertEquals(0.04, single.sigma(), 1e-9);
    assertEquals(0.08, single.factorLambda(), 1e-9);
    // One row, one column, identical values, all zeros.
    int n = 500;
    int[] zeros = new int[n];
    int[] seq = new int[n];
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      seq[i] = i;
      v[i] = 1 + i % 5;
    }
    assertSensible(RatingStatistics.of(TrainingMatrix.fromCoordinates(1, n, zeros, seq, v,
        AbsentEntries.UNKNOWN)));
    assertSensible(RatingStatistics.of(TrainingMatrix.fromCoordinates(n, 1, seq, zeros, v,
        AbsentEntries.UNKNOWN)));
    assertSensible(RatingStatistics.of(TrainingMatrix.fromCoordinates(n, 1, seq, zeros,
        new float[n], AbsentEntries.UNKNOWN)));
    java.util.Arrays.fill(v, 3);
    assertSensible(RatingStatistics.of(TrainingMatrix.fromCoordinates(1, n, zeros, seq, v,
        AbsentEntries.UNKNOWN)));
  }

  @Test
  void rules_hundredMillionEntries_finiteWithoutAMatrix() {
    // 10⁸ ratings of 10⁶ users × 10⁵ items, computed from the statistics alone.
    // Skewed lengths: an entry's row is 300 long on average (mean 100), its column 5,000.
    RatingStatistics s = new RatingStatistics(1_000_000, 100_000, 100_000_000L, 3.5, 0.9, 0.12,
        0.25, 300, 5000);
    assertSensible(s);
    assertEquals(0.9 * (10 + Math.sqrt(1000)), s.factorLambda(), 1e-9);
    assertEquals(s.factorLambda() / 2650, s.weightedFactorLambda(), 1e-12);
    assertEquals(0.81 / 0.185, s.biasLambda(), 1e-9);
    // And at the floors: the largest λ_b is 10⁶.
    RatingStatistics flat = new RatingStatistics(1_000_000, 100_000, 100_000_000L, 3.5, 0.9,
        1e-300, 1e-300, 100, 1000);
    assertEquals(1e6, flat.biasLambda());
  }
}
