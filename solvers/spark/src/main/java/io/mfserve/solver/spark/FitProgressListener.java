package io.mfserve.solver.spark;

import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import java.util.logging.Logger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.StageInfo;

/**
 * Turns the stages Spark completes for the running fit into the SPI's progress reports.
 *
 * <p>Spark reports no ALS objective and no iteration count; what it reports is stages. Each
 * half-sweep of MLlib's ALS (solving the items, then the users) is one shuffle stage built in
 * {@code ALS.computeFactors}, whose creation site appears in the stage's details; so the n-th
 * pair of such stages completed marks iteration n. Iterations are reported with a NaN loss
 * (not computed). Stages completed of total are logged at FINE. Called on Spark's listener
 * thread.
 */
final class FitProgressListener extends SparkListener {
  private static final Logger LOG = Logger.getLogger(FitProgressListener.class.getName());

  private volatile Run current;

  /** One fit's counters. */
  static final class Run {
    final String group;
    final FitContext context;
    final int maxIterations;
    final long start = System.nanoTime();
    volatile int stagesTotal;
    volatile int stagesDone;
    volatile int halfSweeps;
    volatile int reported;
    /** What was reported, in order: the model's history. */
    final java.util.List<IterationProgress> history = new java.util.ArrayList<>();

    Run(String group, FitContext context, int maxIterations) {
      this.group = group;
      this.context = context;
      this.maxIterations = maxIterations;
    }

    /** Reports iterations up to {@code n} not yet reported. */
    synchronized void reportUpTo(int n) {
      while (reported < Math.min(n, maxIterations)) {
        reported++;
        IterationProgress p = new IterationProgress(reported, Double.NaN,
            System.nanoTime() - start, Double.NaN);
        history.add(p);
        context.report(p);
      }
    }
  }

  /** Routes stage events to {@code run} until {@link #end}. */
  void begin(Run run) {
    current = run;
  }

  void end() {
    current = null;
  }

  @Override
  public void onJobStart(SparkListenerJobStart e) {
    Run run = current;
    if (run != null && run.group.equals(e.properties().getProperty("spark.jobGroup.id"))) {
      run.stagesTotal += e.stageInfos().size();
    }
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted e) {
    Run run = current;
    if (run == null) {
      return;
    }
    StageInfo info = e.stageInfo();
    if (info.failureReason().isDefined()) {
      return;
    }
    run.stagesDone++;
    LOG.fine(() -> "spark-als " + run.group + ": stages " + run.stagesDone + " of "
        + run.stagesTotal + " (" + info.name() + ")");
    if (info.shuffleDepId().isDefined() && info.details().contains("computeFactors")) {
      run.halfSweeps++;
      run.reportUpTo(run.halfSweeps / 2);
    }
  }
}
