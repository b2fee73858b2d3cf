package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FitWithProgressRequest;
import io.mfserve.proto.v1.FitWithProgressResponse;
import io.mfserve.proto.v1.ListModelsRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.TuneMethod;
import io.mfserve.proto.v1.TuneMetric;
import io.mfserve.proto.v1.TuneRange;
import io.mfserve.proto.v1.TuneSpec;
import io.mfserve.proto.v1.TuneTrial;
import io.mfserve.server.model.store.MemoryBudget;
import io.mfserve.server.testing.InProcessMfServer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** FitRequest.tune: the search, its trials on the stream and in ModelInfo, cancellation. */
class TuneRpcTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  /**
   * Ratings of a planted rank-3 model (factor entries N(0, 1)) plus N(0, 0.8²) noise on a
   * seeded half of 200 × 150 pairs: about 75 entries per user and 100 per item. With almost
   * no regularisation, rank 1 or 2 leaves a planted component out and every rank above 3 fits
   * noise, so held-out RMSE is lowest at rank 3 (fitted 27 sweeps on 80% and scored on the
   * rest, ranks 1 to 6 and 8 score 1.53, 1.21, 0.843, 0.870, 0.898, 0.928 and 1.01).
   */
  private static Matrix plantedRank3() {
    Random rnd = new Random(17);
    int users = 200;
    int items = 150;
    int k = 3;
    double[][] u = new double[users][k];
    double[][] v = new double[items][k];
    for (double[] row : u) {
      for (int f = 0; f < k; f++) {
        row[f] = rnd.nextGaussian();
      }
    }
    for (double[] row : v) {
      for (int f = 0; f < k; f++) {
        row[f] = rnd.nextGaussian();
      }
    }
    SparseMatrix.Builder s = SparseMatrix.newBuilder();
    for (int a = 0; a < users; a++) {
      for (int b = 0; b < items; b++) {
        if (rnd.nextDouble() < 0.5) {
          double x = 0;
          for (int f = 0; f < k; f++) {
            x += u[a][f] * v[b][f];
          }
          s.addRowIds(a).addColIds(b).addValues((float) (x + 0.8 * rnd.nextGaussian()));
        }
      }
    }
    return Matrix.newBuilder().setSparse(s).build();
  }

  private static FitRequest.Builder tunedRank(Matrix m, long seed) {
    return FitRequest.newBuilder().setSolver("als").setMatrix(m).setSeed(seed)
        .setMaxIterations(27).setRegularization(0.01)
        .putParams("weighted_lambda", "false").putParams("biases", "false")
        .setTune(TuneSpec.newBuilder().setMaxFits(30)
            .addRanges(TuneRange.newBuilder().setName("num_factors").setMin(1).setMax(8)));
  }

  private static List<FitWithProgressResponse> stream(MatrixFactorizationBlockingStub stub,
      FitRequest request) {
    List<FitWithProgressResponse> events = new ArrayList<>();
    stub.fitWithProgress(FitWithProgressRequest.newBuilder().setFit(request).build())
        .forEachRemaining(events::add);
    return events;
  }

  @Test
  void tune_plantedRank3_hyperband_findsRank3WithinTheBudget() {
    MatrixFactorizationBlockingStub stub = server.start();
    List<FitWithProgressResponse> events = stream(stub, tunedRank(plantedRank3(), 5).build());
    ModelInfo info = events.get(events.size() - 1).getModel();
    // R = 27 sweeps, 30 fits: s_max = 2, brackets 13+4+1, 6+2, 4 (see HalvingTest).
    assertEquals(30, info.getTuneTrialsCount());
    for (int b = 0; b < 3; b++) {
      int bracket = b;
      assertEquals(new int[] {18, 8, 4}[b], info.getTuneTrialsList().stream()
          .filter(t -> t.getBracket() == bracket).count());
    }
    // Rung r of bracket b runs 27 / 3^(rungs − 1 − r) sweeps.
    int[][] sweeps = {{3, 9, 27}, {9, 27}, {27}};
    for (TuneTrial t : info.getTuneTrialsList()) {
      assertEquals(sweeps[t.getBracket()][t.getRung()], t.getIterations(), t.toString());
    }
    assertEquals(3, info.getNumFactors(), "chosen rank; trials: " + info.getTuneTrialsList());
    TuneTrial chosen = info.getTuneTrialsList().stream().filter(TuneTrial::getBest)
        .findFirst().orElseThrow();
    assertEquals(27, chosen.getIterations());
    for (TuneTrial t : info.getTuneTrialsList()) {
      if (t.getIterations() == 27 && t.getNumber() != chosen.getNumber()) {
        assertTrue(chosen.getMetric() <= t.getMetric(), t + " vs " + chosen);
      }
    }
  }

  @Test
  void tune_plantedRank3_successiveHalving_findsRank3WithinTheBudgetAndFitsIt() {
    MatrixFactorizationBlockingStub stub = server.start();
    FitRequest.Builder req = tunedRank(plantedRank3(), 5);
    req.getTuneBuilder().setMethod(TuneMethod.TUNE_METHOD_SUCCESSIVE_HALVING);
    List<FitWithProgressResponse> events = stream(stub, req.build());

    List<TuneTrial> streamed = new ArrayList<>();
    int progress = 0;
    for (FitWithProgressResponse e : events) {
      if (e.hasTrial()) {
        assertEquals(0, progress, "every trial comes before the final fit's iterations");
        streamed.add(e.getTrial());
      } else if (e.hasProgress()) {
        progress++;
      }
    }
    ModelInfo info = events.get(events.size() - 1).getModel();
    assertTrue(streamed.size() <= 30 && streamed.size() >= 20, "trials " + streamed.size());
    assertEquals(streamed.size(), info.getTuneTrialsCount());
    // Parallel trials may finish out of order; the model lists them by number.
    streamed.sort(java.util.Comparator.comparingInt(TuneTrial::getNumber));
    for (int t = 0; t < streamed.size(); t++) {
      // The model marks the chosen trial, which is known only once the search is over.
      assertEquals(streamed.get(t), info.getTuneTrials(t).toBuilder().setBest(false).build());
      assertEquals(t + 1, streamed.get(t).getNumber());
    }
    assertEquals(TuneMetric.TUNE_METRIC_RMSE, info.getTuneMetric());
    assertEquals(3, info.getNumFactors(), "chosen rank; trials: " + streamed);
    assertEquals(27, info.getIterations(), "the final fit runs the full iterations");
    assertEquals(27, progress);
    List<TuneTrial> best = info.getTuneTrialsList().stream().filter(TuneTrial::getBest)
        .toList();
    assertEquals(1, best.size());
    assertEquals("3", best.get(0).getSettingMap().get("num_factors"));
    // Rungs of successive halving: 20 trials of 1 iteration, then 6 of 3, 2 of 9, 1 of 27.
    assertEquals(20, streamed.stream().filter(t -> t.getRung() == 0).count());
    assertTrue(streamed.stream().filter(t -> t.getRung() == 0)
        .allMatch(t -> t.getIterations() == 1));
    assertEquals(27, streamed.get(streamed.size() - 1).getIterations());
    // The best setting's held-out RMSE beats every other rank's at the same rung.
    TuneTrial chosen = best.get(0);
    for (TuneTrial t : info.getTuneTrialsList()) {
      if (t.getRung() == chosen.getRung() && t.getNumber() != chosen.getNumber()) {
        assertTrue(chosen.getMetric() <= t.getMetric(), t + " vs " + chosen);
      }
    }
  }

  @Test
  void tune_sameSeed_sameTrials_otherSeed_otherProposals() {
    MatrixFactorizationBlockingStub stub = server.start();
    Matrix m = plantedRank3();
    FitRequest.Builder req = FitRequest.newBuilder().setSolver("als").setMatrix(m).setSeed(3)
        .setMaxIterations(9).setTune(TuneSpec.newBuilder().setMaxFits(8)
            .addRanges(TuneRange.newBuilder().setName("regularization").setMin(0.1)
                .setMax(100).setLogScale(true))
            .addRanges(TuneRange.newBuilder().setName("num_factors").setMin(2).setMax(6)));
    ModelInfo a = stub.fit(req.setModelId("a").build()).getModel();
    ModelInfo b = stub.fit(req.setModelId("b").build()).getModel();
    ModelInfo c = stub.fit(req.setModelId("c").setSeed(4).build()).getModel();
    assertEquals(a.getTuneTrialsCount(), b.getTuneTrialsCount());
    for (int t = 0; t < a.getTuneTrialsCount(); t++) {
      TuneTrial x = a.getTuneTrials(t);
      TuneTrial y = b.getTuneTrials(t);
      assertEquals(x.getSettingMap(), y.getSettingMap());
      assertEquals(x.getMetric(), y.getMetric(), 0.0);
      assertEquals(x.getIterations(), y.getIterations());
    }
    assertEquals(a.getParamsMap(), b.getParamsMap());
    assertFalse(a.getTuneTrials(0).getSettingMap().equals(c.getTuneTrials(0).getSettingMap()));
  }

  @Test
  void tune_oneTrialAtATimeOrTwo_sameTrialsSameChoice() {
    // The test server trains on 2 threads: parallel_trials 0 runs two trials at once.
    MatrixFactorizationBlockingStub stub = server.start();
    FitRequest.Builder req = tunedRank(plantedRank3(), 11).setMaxIterations(9);
    req.getTuneBuilder().setMaxFits(14).addRanges(TuneRange.newBuilder()
        .setName("regularization").setMin(0.01).setMax(10).setLogScale(true));
    for (TuneMethod method : List.of(TuneMethod.TUNE_METHOD_HYPERBAND,
        TuneMethod.TUNE_METHOD_SUCCESSIVE_HALVING)) {
      req.getTuneBuilder().setMethod(method).setParallelTrials(1);
      ModelInfo one = stub.fit(req.setModelId("one-" + method).build()).getModel();
      req.getTuneBuilder().setParallelTrials(0);
      ModelInfo two = stub.fit(req.setModelId("two-" + method).build()).getModel();
      assertEquals(one.getTuneTrialsCount(), two.getTuneTrialsCount());
      for (int t = 0; t < one.getTuneTrialsCount(); t++) {
        TuneTrial x = one.getTuneTrials(t);
        TuneTrial y = two.getTuneTrials(t);
        assertEquals(x.toBuilder().setSeconds(0).build(), y.toBuilder().setSeconds(0).build());
      }
      assertEquals(one.getParamsMap(), two.getParamsMap());
      assertEquals(one.getNumFactors(), two.getNumFactors());
    }
  }

  @Test
  void tune_cancelledMidSearch_stopsAndKeepsNothing() throws Exception {
    MatrixFactorizationBlockingStub stub = server.start();
    Context.CancellableContext ctx = Context.current().withCancellation();
    AtomicInteger trials = new AtomicInteger();
    FitRequest req = tunedRank(plantedRank3(), 9).setMaxIterations(2000)
        .setTune(TuneSpec.newBuilder().setMaxFits(1000).setReductionFactor(2)
            .addRanges(TuneRange.newBuilder().setName("num_factors").setMin(1).setMax(8)))
        .setModelId("tune-cancel").build();
    ctx.run(() -> {
      Iterator<FitWithProgressResponse> it = stub.fitWithProgress(
          FitWithProgressRequest.newBuilder().setFit(req).build());
      try {
        while (it.hasNext()) {
          if (it.next().hasTrial() && trials.incrementAndGet() == 3) {
            ctx.cancel(null);
          }
        }
      } catch (StatusRuntimeException e) {
        assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
      }
    });
    assertTrue(trials.get() >= 3 && trials.get() < 400, "trials " + trials.get());
    MemoryBudget budget = server.injector().getInstance(MemoryBudget.class);
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (budget.usedBytes() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(0, budget.usedBytes());
    assertEquals(0, stub.listModels(ListModelsRequest.getDefaultInstance()).getModelsCount());
  }

  @Test
  void tune_badSpecs_invalidArgumentNamingTheField() {
    MatrixFactorizationBlockingStub stub = server.start();
    Matrix m = plantedRank3();
    String[][] cases = {
        {"nope", "tune.ranges[0].name"},
        {"budget", "tune.max_fits"},
        {"log", "tune.ranges[0].min"},
        {"bool", "tune.ranges[0].values"},
        {"rank", "tune.ranges[0].max"},
    };
    for (String[] c : cases) {
      TuneSpec.Builder t = TuneSpec.newBuilder();
      switch (c[0]) {
        case "nope" -> t.addRanges(TuneRange.newBuilder().setName("no_such").setMin(1).setMax(2));
        case "budget" -> t.setMaxFits(5000).addRanges(TuneRange.newBuilder()
            .setName("regularization").setMin(1).setMax(2));
        case "log" -> t.addRanges(TuneRange.newBuilder().setName("regularization").setMin(0)
            .setMax(2).setLogScale(true));
        case "bool" -> t.addRanges(TuneRange.newBuilder().setName("biases").setMin(0).setMax(1));
        default -> t.addRanges(TuneRange.newBuilder().setName("num_factors").setMin(1)
            .setMax(100_000));
      }
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.fit(
          FitRequest.newBuilder().setSolver("als").setMatrix(m).setTune(t).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), c[0]);
      com.google.rpc.Status status = io.grpc.protobuf.StatusProto.fromThrowable(e);
      String field = status.getDetailsList().stream()
          .filter(a -> a.is(com.google.rpc.BadRequest.class)).map(a -> {
            try {
              return a.unpack(com.google.rpc.BadRequest.class).getFieldViolations(0).getField();
            } catch (com.google.protobuf.InvalidProtocolBufferException x) {
              throw new AssertionError(x);
            }
          }).findFirst().orElse("");
      assertEquals(c[1], field, c[0] + ": " + e.getStatus().getDescription());
    }
  }
}
