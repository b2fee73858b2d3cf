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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Runs one search: random proposals ({@link Proposals}), all drawn up front, raced by
 * Hyperband or successive halving over iterations ({@link Schedule}), every trial fitted on
 * the same training part and scored on the same held-out part ({@link TrialScorer}). A solver
 * that declares no {@code max_iterations} gets plain random search: every trial runs at its
 * defaults. The chosen setting is the best among the trials that ran the most iterations of
 * their bracket (the highest rung that scored one, counted from the top), ties to the earlier
 * proposal.
 *
 * <h2>Parallel trials</h2>
 * Up to P trials run at once, each on its own thread that fans its work out to the fit's pool
 * (so the fit never uses more pool threads than a plain fit does). P is the pool's
 * parallelism, capped by {@link TuneSpec#parallelTrials()} and by the proposals of rung 0, and
 * lowered until every trial beside the first holds its memory in {@link TrialMemory} (the
 * fit's own reservation covers one). The brackets are independent, so a rung waits only for
 * the rung before it in its own bracket.
 *
 * <p>Deterministic for a seed, whatever P: the proposals are drawn before any trial runs,
 * every trial's solver sees the pool's full parallelism (the same bits as alone), a rung's
 * promotions depend on its own scores only (ties to the earlier proposal), and trials are
 * numbered by their place in the schedule rather than by when they finished. A time budget is
 * the one exception (a slower machine runs fewer trials). Cancellation ({@code cancelled})
 * stops the running trials within an iteration and the search with {@link
 * FitCancelledException}; a trial that fails (a diverging learning rate, a bad combination of
 * parameters) is recorded with its error and ranks last.
 */
public final class Tuner {
  /** The fit option that names the rank. */
  public static final String NUM_FACTORS = "num_factors";
  private static final AtomicInteger THREADS = new AtomicInteger();

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

  /** One trial to run: where it sits in the schedule and what it runs. */
  private record Task(int bracket, int rung, int position, int proposal, int number,
      int iterations) {}

  /** A bracket's progress: the proposals of its current rung and their scores so far. */
  private static final class BracketState {
    final int[] sizes;
    final int firstNumber;
    int rung;
    List<Integer> candidates;
    double[] scores;
    int pending;

    BracketState(int[] sizes, int firstNumber, List<Integer> candidates) {
      this.sizes = sizes;
      this.firstNumber = firstNumber;
      this.candidates = candidates;
    }
  }

  /**
   * Runs the search.
   *
   * @param base what every trial starts from
   * @param train the training part
   * @param heldOut the held-out part that scores the trials
   * @param pool the pool the solver runs in
   * @param cancelled true once the caller gave up
   * @param memory where trials beside the first hold their memory
   * @param listener hears each trial as it finishes (on this thread)
   * @return the trials, in schedule order, and the chosen setting
   * @throws FitCancelledException when cancelled
   */
  public TuneReport run(Base base, TrainingMatrix train, ValidationSet heldOut,
      ForkJoinPool pool, BooleanSupplier cancelled, TrialMemory memory,
      Consumer<TuneTrial> listener) {
    long start = System.nanoTime();
    SolverProvider provider = base.provider();
    ParameterSpec iterSpec = declared(provider, ParameterSpec.MAX_ITERATIONS);
    boolean tunedIterations = spec.ranges().stream()
        .anyMatch(r -> r.name().equals(ParameterSpec.MAX_ITERATIONS));
    Schedule schedule = schedule(base, iterSpec, tunedIterations);
    List<Map<String, String>> proposals = Proposals.draw(spec.ranges(), integerNames(provider),
        schedule.proposals(), base.seed());
    TrialScorer scorer = new TrialScorer(metric, spec.k(), train, heldOut, base.seed());
    FitContext context = new TrialContext(pool, cancelled);

    // Every bracket's rung 0 is ready at once; its trials are numbered in schedule order.
    List<BracketState> brackets = new ArrayList<>();
    Deque<Task> ready = new ArrayDeque<>();
    int proposal = 0;
    int number = 1;
    for (int[] sizes : schedule.brackets()) {
      List<Integer> first = new ArrayList<>();
      for (int i = 0; i < sizes[0]; i++) {
        first.add(proposal++);
      }
      BracketState b = new BracketState(sizes, number, first);
      brackets.add(b);
      for (int v : sizes) {
        number += v;
      }
    }
    for (int b = 0; b < brackets.size(); b++) {
      enqueue(b, brackets.get(b), proposals, base, iterSpec, tunedIterations, ready);
    }

    int parallel = Math.min(spec.parallelTrials() > 0 ? spec.parallelTrials()
        : Integer.MAX_VALUE, Math.min(pool.getParallelism(), ready.size()));
    long slotBytes = parallel > 1 ? trialBytes(base, train) : 0;
    int held = 0;
    while (held + 1 < parallel && memory.tryHold(slotBytes, "a parallel tune trial")) {
      held++;
    }
    parallel = held + 1;
    ExecutorService threads = Executors.newFixedThreadPool(parallel, r -> {
      Thread t = new Thread(r, "mfserve-tune-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      t.setContextClassLoader(provider.getClass().getClassLoader());
      return t;
    });
    CompletionService<TuneTrial> done = new ExecutorCompletionService<>(threads);
    Task[] tasks = new Task[number - 1];
    TuneTrial[] trials = new TuneTrial[number - 1];
    boolean stop = false;
    boolean wasCancelled = false;
    int running = 0;
    try {
      while (true) {
        if (cancelled.getAsBoolean()) {
          wasCancelled = true;
          stop = true;
        }
        if (spec.maxSeconds() > 0 && (System.nanoTime() - start) / 1e9 >= spec.maxSeconds()) {
          stop = true;
        }
        while (!stop && running < parallel && !ready.isEmpty()) {
          Task task = ready.poll();
          tasks[task.number() - 1] = task;
          Map<String, String> setting = proposals.get(task.proposal());
          done.submit(() -> trial(base, setting, task, train, context, scorer));
          running++;
        }
        if (running == 0) {
          break;
        }
        Future<TuneTrial> f = done.poll(50, TimeUnit.MILLISECONDS);
        if (f == null) {
          continue;
        }
        running--;
        TuneTrial t;
        try {
          t = f.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof FitCancelledException) {
            wasCancelled = true;
            stop = true;
            continue;
          }
          if (e.getCause() instanceof Error err) {
            throw err;
          }
          throw e.getCause() instanceof RuntimeException re ? re
              : new IllegalStateException(e.getCause());
        }
        trials[t.number() - 1] = t;
        listener.accept(t);
        Task task = tasks[t.number() - 1];
        BracketState b = brackets.get(task.bracket());
        b.scores[task.position()] = t.metric();
        if (--b.pending == 0 && b.rung + 1 < b.sizes.length) {
          List<Integer> ranked = ranked(b.candidates, b.scores);
          b.rung++;
          b.candidates = new ArrayList<>(ranked.subList(0, Math.min(b.sizes[b.rung],
              ranked.size())));
          enqueue(task.bracket(), b, proposals, base, iterSpec, tunedIterations, ready);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      wasCancelled = true;
    } finally {
      threads.shutdownNow();
      awaitQuietly(threads);
      if (held > 0) {
        memory.release(held * slotBytes);
      }
    }
    if (wasCancelled) {
      throw new FitCancelledException(0);
    }
    return report(trials, tasks, brackets);
  }

  /** The schedule for this spec and solver. */
  private Schedule schedule(Base base, ParameterSpec iterSpec, boolean tunedIterations) {
    if (iterSpec == null) {
      return Schedule.random(spec.maxFits());
    }
    if (spec.method() == TuneMethod.SUCCESSIVE_HALVING) {
      return Schedule.halving(spec.maxFits(), spec.eta());
    }
    int full = fullIterations(base, Map.of(), iterSpec, false);
    if (tunedIterations) {
      for (TuneRange r : spec.ranges()) {
        if (r.name().equals(ParameterSpec.MAX_ITERATIONS)) {
          full = r.isList() ? r.values().stream().mapToInt(v -> Integer.parseInt(v.trim()))
              .max().orElse(full) : (int) Math.floor(r.max());
        }
      }
    }
    return Schedule.hyperband(spec.maxFits(), spec.eta(), Math.max(1, full));
  }

  /** Queues the trials of the bracket's current rung, in candidate order. */
  private void enqueue(int bracket, BracketState b, List<Map<String, String>> proposals,
      Base base, ParameterSpec iterSpec, boolean tunedIterations, Deque<Task> ready) {
    int offset = b.firstNumber;
    for (int r = 0; r < b.rung; r++) {
      offset += b.sizes[r];
    }
    b.scores = new double[b.candidates.size()];
    b.pending = b.candidates.size();
    for (int i = 0; i < b.candidates.size(); i++) {
      int p = b.candidates.get(i);
      int iterations = iterSpec == null ? 0 : Halving.iterations(
          fullIterations(base, proposals.get(p), iterSpec, tunedIterations), b.rung,
          b.sizes.length, spec.eta());
      ready.add(new Task(bracket, b.rung, i, p, offset + i, iterations));
    }
  }

  /** Best first, NaN (failed) last, ties to the earlier proposal. */
  private List<Integer> ranked(List<Integer> candidates, double[] scores) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      order.add(i);
    }
    order.sort(Comparator.<Integer>comparingInt(i -> Double.isNaN(scores[i]) ? 1 : 0)
        .thenComparingDouble(i -> Double.isNaN(scores[i]) ? 0
            : metric.lowerIsBetter() ? scores[i] : -scores[i])
        .thenComparingInt(candidates::get));
    List<Integer> out = new ArrayList<>();
    order.forEach(i -> out.add(candidates.get(i)));
    return out;
  }

  /**
   * The trials that ran, in schedule order, the chosen one marked: among the scored trials,
   * those fewest rungs below the top of their bracket, then the best score, then the earlier
   * proposal.
   */
  private TuneReport report(TuneTrial[] all, Task[] tasks, List<BracketState> brackets) {
    List<TuneTrial> trials = new ArrayList<>();
    int best = -1;
    Task bestTask = null;
    for (int n = 0; n < all.length; n++) {
      TuneTrial t = all[n];
      if (t == null) {
        continue;
      }
      trials.add(t);
      if (Double.isNaN(t.metric())) {
        continue;
      }
      if (best < 0 || better(t, tasks[n], trials.get(best), bestTask, brackets)) {
        best = trials.size() - 1;
        bestTask = tasks[n];
      }
    }
    if (best < 0) {
      return new TuneReport(metric, trials, Map.of());
    }
    TuneTrial chosen = trials.get(best).asBest();
    trials.set(best, chosen);
    return new TuneReport(metric, trials, chosen.setting());
  }

  private boolean better(TuneTrial a, Task ta, TuneTrial b, Task tb,
      List<BracketState> brackets) {
    int belowA = brackets.get(ta.bracket()).sizes.length - 1 - ta.rung();
    int belowB = brackets.get(tb.bracket()).sizes.length - 1 - tb.rung();
    if (belowA != belowB) {
      return belowA < belowB;
    }
    if (a.metric() != b.metric()) {
      return metric.lowerIsBetter() ? a.metric() < b.metric() : a.metric() > b.metric();
    }
    return ta.proposal() < tb.proposal();
  }

  private int fullIterations(Base base, Map<String, String> setting, ParameterSpec iterSpec,
      boolean tunedIterations) {
    return tunedIterations
        ? Integer.parseInt(setting.get(ParameterSpec.MAX_ITERATIONS).trim())
        : base.params().containsKey(ParameterSpec.MAX_ITERATIONS)
            ? Integer.parseInt(base.params().get(ParameterSpec.MAX_ITERATIONS).trim())
            : (Integer) iterSpec.defaultValue();
  }

  /**
   * The bytes one more concurrent trial holds: the solver's working memory and a model, both
   * at the largest rank the search may try.
   */
  private long trialBytes(Base base, TrainingMatrix train) {
    int k = base.numFactors();
    for (TuneRange r : spec.ranges()) {
      if (r.name().equals(NUM_FACTORS)) {
        k = Math.max(k, r.isList() ? r.values().stream().mapToInt(v ->
            Integer.parseInt(v.trim())).max().orElse(k) : (int) Math.floor(r.max()));
      }
    }
    SolverConfig config = config(base, Map.of(NUM_FACTORS, Integer.toString(k)), 0);
    return base.provider().estimateWorkingBytes(train.rows(), train.cols(), train.nnz(), config)
        + FactorModel.estimateBytes(train.rows(), train.cols(), k, true);
  }

  private static void awaitQuietly(ExecutorService threads) {
    boolean interrupted = false;
    while (true) {
      try {
        if (threads.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private TuneTrial trial(Base base, Map<String, String> setting, Task task,
      TrainingMatrix train, FitContext context, TrialScorer scorer) {
    long t0 = System.nanoTime();
    try {
      SolverConfig config = config(base, setting, task.iterations());
      config = base.provider().resolveForData(config, train);
      FactorModel model = base.provider().create(config).fit(train, context);
      double score = scorer.score(model);
      return new TuneTrial(task.number(), setting, task.bracket(), task.rung(),
          task.iterations(), score, (System.nanoTime() - t0) / 1e9,
          Double.isNaN(score) ? "nothing to score" : null, false);
    } catch (FitCancelledException e) {
      throw e;
    } catch (RuntimeException e) {
      return new TuneTrial(task.number(), setting, task.bracket(), task.rung(),
          task.iterations(), Double.NaN, (System.nanoTime() - t0) / 1e9,
          e.getMessage() == null ? e.toString() : e.getMessage(), false);
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
