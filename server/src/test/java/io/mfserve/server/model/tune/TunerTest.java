package io.mfserve.server.model.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The search itself: parallel trials, their memory, determinism and cancellation. */
class TunerTest {
  private final ForkJoinPool pool = new ForkJoinPool(4);

  @AfterEach
  void close() {
    pool.shutdownNow();
  }

  /** A planted rank-3 model plus noise on a seeded 40% of 80 × 60 pairs, split 80/20. */
  private static TrainingMatrix.Split planted() {
    Random rnd = new Random(5);
    int users = 80;
    int items = 60;
    double[][] u = new double[users][3];
    double[][] v = new double[items][3];
    for (double[] r : u) {
      for (int f = 0; f < 3; f++) {
        r[f] = rnd.nextGaussian();
      }
    }
    for (double[] r : v) {
      for (int f = 0; f < 3; f++) {
        r[f] = rnd.nextGaussian();
      }
    }
    List<int[]> at = new ArrayList<>();
    List<Float> values = new ArrayList<>();
    for (int a = 0; a < users; a++) {
      for (int b = 0; b < items; b++) {
        if (rnd.nextDouble() < 0.4) {
          double x = 0;
          for (int f = 0; f < 3; f++) {
            x += u[a][f] * v[b][f];
          }
          at.add(new int[] {a, b});
          values.add((float) (x + 0.3 * rnd.nextGaussian()));
        }
      }
    }
    int[] rows = at.stream().mapToInt(p -> p[0]).toArray();
    int[] cols = at.stream().mapToInt(p -> p[1]).toArray();
    float[] vals = new float[values.size()];
    for (int i = 0; i < vals.length; i++) {
      vals[i] = values.get(i);
    }
    return TrainingMatrix.fromCoordinates(users, items, rows, cols, vals, AbsentEntries.UNKNOWN)
        .split(0.2, 9);
  }

  private static SolverProvider als() {
    for (SolverProvider p : ServiceLoader.load(SolverProvider.class)) {
      if (p.name().equals("als")) {
        return p;
      }
    }
    throw new AssertionError("als not on the test class path");
  }

  private static TuneSpec spec(TuneMethod method, int parallel) {
    return new TuneSpec(List.of(new TuneRange("num_factors", 1, 6, false, List.of()),
        new TuneRange("regularization", 0.01, 30, true, List.of())), TuneMetric.RMSE, 10, 16,
        0, 0.2, 3, method, parallel);
  }

  private static Tuner.Base base() {
    return new Tuner.Base(als(), Map.of("max_iterations", "9", "biases", "false",
        "weighted_lambda", "false"), 10, 21, AbsentEntries.UNKNOWN);
  }

  /** A budget with room for {@code slots} extra trials; counts what is held. */
  private static final class Slots implements TrialMemory {
    final AtomicInteger room;
    final AtomicLong held = new AtomicLong();
    final AtomicLong most = new AtomicLong();

    Slots(int slots) {
      room = new AtomicInteger(slots);
    }

    @Override
    public boolean tryHold(long bytes, String what) {
      assertTrue(bytes > 0, "a trial needs memory");
      if (room.getAndDecrement() <= 0) {
        return false;
      }
      most.accumulateAndGet(held.addAndGet(bytes), Math::max);
      return true;
    }

    @Override
    public void release(long bytes) {
      held.addAndGet(-bytes);
    }
  }

  @Test
  void run_anyParallelism_sameTrialsSameChoice_memoryHeldAndGivenBack() {
    TrainingMatrix.Split s = planted();
    for (TuneMethod method : TuneMethod.values()) {
      TuneReport alone = new Tuner(spec(method, 1), TuneMetric.RMSE).run(base(), s.train(),
          s.validation(), pool, () -> false, TrialMemory.NONE, t -> { });
      Slots two = new Slots(2);
      List<Integer> heard = Collections.synchronizedList(new ArrayList<>());
      TuneReport wide = new Tuner(spec(method, 0), TuneMetric.RMSE).run(base(), s.train(),
          s.validation(), pool, () -> false, two, t -> heard.add(t.number()));
      // Two extra slots held (three trials at once on a pool of 4), all given back.
      assertTrue(two.most.get() > 0 && two.room.get() < 0, method.toString());
      assertEquals(0, two.held.get());
      assertEquals(alone.trials().size(), wide.trials().size());
      assertEquals(alone.trials().size(), heard.size());
      for (int i = 0; i < alone.trials().size(); i++) {
        TuneTrial a = alone.trials().get(i);
        TuneTrial b = wide.trials().get(i);
        assertEquals(i + 1, b.number());
        assertEquals(List.of(a.setting(), a.bracket(), a.rung(), a.iterations(), a.metric(),
            a.best()), List.of(b.setting(), b.bracket(), b.rung(), b.iterations(), b.metric(),
            b.best()), method + " trial " + (i + 1));
      }
      assertEquals(alone.best(), wide.best());
      assertTrue(Integer.parseInt(wide.best().get("num_factors")) >= 3, wide.best().toString());
    }
  }

  @Test
  void run_cancelledWhileTrialsRunInParallel_throwsAndGivesTheMemoryBack() {
    TrainingMatrix.Split s = planted();
    AtomicBoolean cancelled = new AtomicBoolean();
    AtomicInteger finished = new AtomicInteger();
    Slots slots = new Slots(3);
    TuneSpec many = new TuneSpec(spec(TuneMethod.HYPERBAND, 0).ranges(), TuneMetric.RMSE, 10,
        200, 0, 0.2, 3, TuneMethod.HYPERBAND, 0);
    assertThrows(FitCancelledException.class, () -> new Tuner(many, TuneMetric.RMSE).run(
        base(), s.train(), s.validation(), pool, cancelled::get, slots, t -> {
          if (finished.incrementAndGet() == 3) {
            cancelled.set(true);
          }
        }));
    assertTrue(finished.get() < 20, "stopped soon after: " + finished.get());
    assertEquals(0, slots.held.get());
  }
}
