package io.mfserve.example.baseline;

import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.Solver;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import java.util.ArrayList;
import java.util.List;

/**
 * One fit of the bias baseline: alternating exact minimisation of
 * {@code f = Σ (r − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i²} over the observed entries, μ
 * being the mean of the entries. With the item biases fixed, each user's bias has the closed
 * form {@code Σ (r − μ − b_i) / (λ_u + n_u)}, and the same holds for items; each sweep
 * therefore never increases f, and f is what {@link IterationProgress#loss()} reports.
 *
 * <p>A sweep is two passes over the entries (by row, then by column), O(nnz), in one thread:
 * memory-bound and a few milliseconds for a million entries, not worth the pool's overhead.
 */
final class BaselineSolver implements Solver {
  private final int numFactors;
  private final int sweeps;
  private final double userLambda;
  private final double itemLambda;

  BaselineSolver(int numFactors, int sweeps, double userLambda, double itemLambda) {
    this.numFactors = numFactors;
    this.sweeps = sweeps;
    this.userLambda = userLambda;
    this.itemLambda = itemLambda;
  }

  @Override
  public FactorModel fit(TrainingMatrix data, FitContext context) {
    long start = System.nanoTime();
    double mu = data.mean();
    float[] userBias = new float[data.rows()];
    float[] itemBias = new float[data.cols()];
    List<IterationProgress> history = new ArrayList<>();
    ValidationSet validation = context.validation();
    for (int sweep = 0; sweep < sweeps; sweep++) {
      context.throwIfCancelled(sweep);
      solveUsers(data, mu, userBias, itemBias);
      solveItems(data, mu, userBias, itemBias);
      double rmse = validation.isEmpty() ? Double.NaN
          : validation.rmse((u, i) -> mu + userBias[u] + itemBias[i]);
      IterationProgress p = new IterationProgress(sweep + 1,
          objective(data, mu, userBias, itemBias), System.nanoTime() - start, rmse);
      history.add(p);
      context.report(p);
    }
    return new FactorModel(data.rows(), data.cols(), numFactors,
        new float[Math.multiplyExact(data.rows(), numFactors)],
        new float[Math.multiplyExact(data.cols(), numFactors)],
        new FactorModel.Biases(mu, userBias, itemBias), history);
  }

  private void solveUsers(TrainingMatrix data, double mu, float[] userBias, float[] itemBias) {
    for (int u = 0; u < data.rows(); u++) {
      double sum = 0;
      for (int p = data.rowStart(u); p < data.rowEnd(u); p++) {
        sum += data.rowValue(p) - mu - itemBias[data.rowColumn(p)];
      }
      int n = data.rowLength(u);
      // A row without entries (possible only with λ_u = 0) keeps the prior, 0.
      userBias[u] = n + userLambda > 0 ? (float) (sum / (userLambda + n)) : 0f;
    }
  }

  private void solveItems(TrainingMatrix data, double mu, float[] userBias, float[] itemBias) {
    for (int i = 0; i < data.cols(); i++) {
      double sum = 0;
      for (int q = data.colStart(i); q < data.colEnd(i); q++) {
        sum += data.colValue(q) - mu - userBias[data.colRow(q)];
      }
      int n = data.colLength(i);
      itemBias[i] = n + itemLambda > 0 ? (float) (sum / (itemLambda + n)) : 0f;
    }
  }

  private double objective(TrainingMatrix data, double mu, float[] userBias,
      float[] itemBias) {
    double f = 0;
    for (int u = 0; u < data.rows(); u++) {
      for (int p = data.rowStart(u); p < data.rowEnd(u); p++) {
        double e = data.rowValue(p) - mu - userBias[u] - itemBias[data.rowColumn(p)];
        f += e * e;
      }
      f += userLambda * userBias[u] * userBias[u];
    }
    for (int i = 0; i < data.cols(); i++) {
      f += itemLambda * itemBias[i] * itemBias[i];
    }
    return f;
  }
}
