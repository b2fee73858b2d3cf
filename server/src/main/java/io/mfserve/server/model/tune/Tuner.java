package io.mfserve.server.model.tune;

import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitCancelledException;
import io.mfserve.solver.FitContext;
import io.mfserve.solver.IterationProgress;
import io.mfserve.solver.ParameterSpec;
import io.mfserve.solver.ParameterType;
import io.mfserve.solver.Parameters;
import io.mfserve.solver.SolverConfig;
import io.mfserve.solver.SolverProvider;
import io.mfserve.solver.TrainingMatrix;
import io.mfserve.solver.ValidationSet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Runs one search: random proposals ({@link Proposals}) raced by successive halving over
 * iterations ({@link Halving}), every trial fitted on the same training part and scored on
 * the same held-out part ({@link TrialScorer}), one trial at a time with the solver using the
 * whole pool. A solver that declares no {@code max_iterations} gets plain random search: every
 * trial runs at its defaults. The chosen setting is the best of the highest rung that scored
 * one (ties to the earlier proposal).
 *
 * <p>Deterministic for a seed: the proposals, the solver's seed and the scoring sample depend
 * on it alone, and the solvers are deterministic per seed. A time budget is the one exception
 * (a slower machine runs fewer trials). Cancellation ({@code cancelled}) stops the running
 * trial within an iteration and the search with {@link FitCancelledException}; a trial that
 * fails (a diverging learning rate, a bad combination of parameters) is recorded with its
 * error and ranks last.
 */
public final class Tuner {
  /** The fit option that names the rank. */
  public static final String NUM_FACTORS = "num_factors";

  /**
   * What every trial starts from: the request less its tuning.
   *
   * @param provider the solver
   * @param params the request's parameters by name as text, typed fields included
   * @param numFactors the request's rank (or the default)
   * @param seed the request's seed: the solver's seed and the proposals'
   * @param absent what absent entries mean
   */
  public record Base(SolverProvider provider, Map<String, String> params, int numFactors,
      long seed, AbsentEntries absent) {
    /** Copies the parameters. */
    public Base {
      params = Map.copyOf(params);
    }
  }

  private final TuneSpec spec;
  private final TuneMetric metric;

  /**
   * A search.
   *
   * @param spec what to search, checked
   * @param metric what ranks the trials (the spec's, or the default for the data)
   */
  public Tuner(TuneSpec spec, TuneMetric metric) {
    this.spec = spec;
    this.metric = metric;
  }

  /**
   * Runs the search.
   *
   * @param base what every trial starts from
   * @param train the training part
   * @param heldOut the held-out part that scores the trials
   * @param pool the pool the solver runs in
   * @param cancelled true once the caller gave up
   * @param listener hears each trial as it finishes (on this thread)
   * @return the trials and the chosen setting
   * @throws FitCancelledException when cancelled
   */
  public TuneReport run(Base base, TrainingMatrix train, ValidationSet heldOut,
      ForkJoinPool pool, BooleanSupplier cancelled, Consumer<TuneTrial> listener) {
    long start = System.nanoTime();
    SolverProvider provider = base.provider();
    ParameterSpec iterSpec = declared(provider, ParameterSpec.MAX_ITERATIONS);
    boolean halving = iterSpec != null;
    boolean tunedIterations = spec.ranges().stream()
        .anyMatch(r -> r.name().equals(ParameterSpec.MAX_ITERATIONS));
    int[] sizes = halving ? Halving.rungSizes(spec.maxFits(), spec.eta())
        : new int[] {spec.maxFits()};
    List<Map<String, String>> proposals = Proposals.draw(spec.ranges(), integerNames(provider),
        sizes[0], base.seed());
    TrialScorer scorer = new TrialScorer(metric, spec.k(), train, heldOut, base.seed());
    FitContext context = new TrialContext(pool, cancelled);

    List<TuneTrial> trials = new ArrayList<>();
    List<Integer> candidates = new ArrayList<>();
    for (int i = 0; i < proposals.size(); i++) {
      candidates.add(i);
    }
    double[] lastScore = new double[proposals.size()];
    int[] lastTrial = new int[proposals.size()];
    int bestRung = -1;
    int bestProposal = -1;
    search:
    for (int rung = 0; rung < sizes.length; rung++) {
      int scored = 0;
      for (int idx : candidates) {
        if (cancelled.getAsBoolean()) {
          throw new FitCancelledException(0);
        }
        if (spec.maxSeconds() > 0 && (System.nanoTime() - start) / 1e9 >= spec.maxSeconds()) {
          break search;
        }
        Map<String, String> setting = proposals.get(idx);
        int iterations = 0;
        if (halving) {
          int full = tunedIterations
              ? Integer.parseInt(setting.get(ParameterSpec.MAX_ITERATIONS))
              : base.params().containsKey(ParameterSpec.MAX_ITERATIONS)
                  ? Integer.parseInt(base.params().get(ParameterSpec.MAX_ITERATIONS).trim())
                  : (Integer) iterSpec.defaultValue();
          iterations = Halving.iterations(full, rung, sizes.length, spec.eta());
        }
        TuneTrial t = trial(base, setting, rung, iterations, trials.size() + 1, train, context,
            scorer);
        trials.add(t);
        lastScore[idx] = t.metric();
        lastTrial[idx] = trials.size() - 1;
        listener.accept(t);
        if (!Double.isNaN(t.metric())) {
          scored++;
        }
      }
      if (scored > 0) {
        bestRung = rung;
      }
      // Best first, NaN (failed) last, ties to the earlier proposal.
      List<Integer> ranked = new ArrayList<>(candidates);
      ranked.sort(Comparator.<Integer>comparingInt(i -> Double.isNaN(lastScore[i]) ? 1 : 0)
          .thenComparingDouble(i -> Double.isNaN(lastScore[i]) ? 0
              : metric.lowerIsBetter() ? lastScore[i] : -lastScore[i])
          .thenComparingInt(i -> i));
      if (scored > 0) {
        bestProposal = ranked.get(0);
      }
      if (rung + 1 < sizes.length) {
        candidates = ranked.subList(0, Math.min(sizes[rung + 1], ranked.size()));
      }
    }
    Map<String, String> best = Map.of();
    if (bestProposal >= 0 && bestRung >= 0) {
      int at = lastTrial[bestProposal];
      trials.set(at, trials.get(at).asBest());
      best = proposals.get(bestProposal);
    }
    return new TuneReport(metric, trials, best);
  }

  private TuneTrial trial(Base base, Map<String, String> setting, int rung, int iterations,
      int number, TrainingMatrix train, FitContext context, TrialScorer scorer) {
    long t0 = System.nanoTime();
    try {
      SolverConfig config = config(base, setting, iterations);
      config = base.provider().resolveForData(config, train);
      FactorModel model = base.provider().create(config).fit(train, context);
      double score = scorer.score(model);
      return new TuneTrial(number, setting, rung, iterations, score,
          (System.nanoTime() - t0) / 1e9, Double.isNaN(score) ? "nothing to score" : null,
          false);
    } catch (FitCancelledException e) {
      throw e;
    } catch (RuntimeException e) {
      return new TuneTrial(number, setting, rung, iterations, Double.NaN,
          (System.nanoTime() - t0) / 1e9, e.getMessage() == null ? e.toString()
              : e.getMessage(), false);
    }
  }

  /**
   * The config of one trial (or of the final fit, with {@code iterations} 0): the base with
   * the setting over it and, when positive, the rung's iterations.
   *
   * @throws io.mfserve.solver.InvalidParameterException if a value does not fit the solver
   */
  public static SolverConfig config(Base base, Map<String, String> setting, int iterations) {
    Map<String, String> given = new HashMap<>(base.params());
    int k = base.numFactors();
    for (Map.Entry<String, String> e : setting.entrySet()) {
      if (e.getKey().equals(NUM_FACTORS)) {
        k = Integer.parseInt(e.getValue());
      } else {
        given.put(e.getKey(), e.getValue());
      }
    }
    if (iterations > 0) {
      given.put(ParameterSpec.MAX_ITERATIONS, Integer.toString(iterations));
    }
    Parameters p = Parameters.resolve(base.provider().parameters(), given);
    return new SolverConfig(k, base.seed(), base.absent(), p);
  }

  /** The names drawn as integers: the rank, and the solver's INT parameters. */
  static Set<String> integerNames(SolverProvider provider) {
    Set<String> names = new HashSet<>();
    names.add(NUM_FACTORS);
    for (ParameterSpec s : provider.parameters()) {
      if (s.type() == ParameterType.INT) {
        names.add(s.name());
      }
    }
    return names;
  }

  private static ParameterSpec declared(SolverProvider provider, String name) {
    for (ParameterSpec s : provider.parameters()) {
      if (s.name().equals(name) && s.type() == ParameterType.INT) {
        return s;
      }
    }
    return null;
  }

  /** A trial's context: the server's pool, the caller's cancellation, no validation. */
  private record TrialContext(ForkJoinPool pool, BooleanSupplier cancelled)
      implements FitContext {
    @Override
    public ValidationSet validation() {
      return ValidationSet.empty();
    }

    @Override
    public boolean isCancelled() {
      return cancelled.getAsBoolean() || pool.isShutdown()
          || Thread.currentThread().isInterrupted();
    }

    @Override
    public void report(IterationProgress progress) {
      // Trials are reported whole, when scored.
    }
  }
}
