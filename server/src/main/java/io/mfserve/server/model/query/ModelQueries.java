package io.mfserve.server.model.query;

import io.mfserve.server.model.ann.AnnTarget;
import io.mfserve.server.model.ann.HnswIndex;
import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.errors.PreconditionFailedException;
import io.mfserve.server.model.errors.UnsupportedQueryException;
import io.mfserve.server.model.fit.FitExecutor;
import io.mfserve.server.model.fit.SolverRegistry;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.server.model.ids.IdRefs;
import io.mfserve.server.model.ids.IdResolver;
import io.mfserve.server.model.store.Popularity;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.solver.AbsentEntries;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FoldedUser;
import io.mfserve.solver.InvalidParameterException;
import io.mfserve.solver.ScoreContributions;
import io.mfserve.solver.SolverProvider;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The read side of the application layer: recommendations (for known users and for new users
 * folded in from their entries), similar items and users, full rows of predictions, and
 * fold-in itself, against the stored models.
 *
 * <p>Scoring is {@link ItemScorer} over the model's contiguous factors into a primitive
 * {@link TopK}, with per-thread buffers: a request allocates its result and, for a new user,
 * its factors, nothing proportional to the catalogue. Where the model has a ready approximate
 * index and the request does not ask for an exact answer, {@link ApproximateTopK} proposes the
 * candidates instead of a scan (Recommend, cosine SimilarItems and SimilarUsers). Fold-in
 * calls the model's own solver ({@link SolverProvider#foldInUser}, found by the solver name
 * stored with the model) with the configuration the model was trained with; the model is never
 * changed.
 *
 * <p>Thread-safe and lock-free: models are immutable, and each request works on its own
 * buffers. A request that got a model before a DeleteModel completes on it.
 */
public final class ModelQueries {
  /** The number of results when a request gives no k. */
  public static final int DEFAULT_K = 10;

  /** Users a RecommendBatch scores per task: enough to amortise a task, few enough to balance. */
  static final int USERS_PER_TASK = 8;

  private final ModelService models;
  private final SolverRegistry solvers;
  private final ForkJoinPool pool;

  /** Wires the queries to the model store, the solvers (for fold-in) and the query pool. */
  @Inject
  public ModelQueries(ModelService models, SolverRegistry solvers, FitExecutor executor) {
    this.models = models;
    this.solvers = solvers;
    this.pool = executor.queries();
  }

  // ---------------------------------------------------------------- recommend

  /**
   * Returns the top items for one user, known or folded in, best first; ties go to the lower
   * item position.
   *
   * @throws InvalidRequestException for a negative k or offset, a missing user, an unknown
   *     item id, an unknown user when the query asks for the error, the wrong id form, or a
   *     malformed history
   * @throws NotFoundException for an unknown model
   * @throws UnsupportedQueryException if the model's solver cannot fold in users
   */
  public Ranked recommend(RecommendQuery q) {
    ServedModel m = models.getModel(q.modelId());
    int k = checkK(q.k());
    if (q.offset() < 0) {
      throw new InvalidRequestException("offset", "is " + q.offset() + "; it must be at least 0");
    }
    Candidates c = candidates(m, q.allowed(), q.denied());
    boolean exclude = excludeSeen(m, q.excludeSeen());
    if (q.history() != null) {
      Folded u = foldIn(m, q.history());
      return rank(m, u.factors().factors(), m.factors().globalMean() + u.factors().bias(),
          exclude ? u.items() : null, c, k, q.offset(), q.exact());
    }
    int u = knownUser(m, q.user(), q.unknownUser() != UnknownUserFallback.ERROR);
    if (u < 0) {
      return fallback(m, q.unknownUser(), c, k, q.offset());
    }
    return rankKnown(m, u, exclude, c, k, q.offset(), q.exact());
  }

  /**
   * Checks a RecommendBatch request and returns the work, to be computed in windows with
   * {@link Batch#compute} (each window on every core) and streamed in order.
   *
   * @throws InvalidRequestException for no users, an unknown one (naming its index), a negative
   *     k, the wrong id form, or an unknown allowed or denied item
   */
  public Batch prepareBatch(String modelId, IdRefs users, int k, Boolean excludeSeen,
      IdRefs allowed, IdRefs denied) {
    return prepareBatch(modelId, users, k, excludeSeen, allowed, denied, false);
  }

  /**
   * As {@link #prepareBatch(String, IdRefs, int, Boolean, IdRefs, IdRefs)}, scanning every item
   * when {@code exact} even where the model has an approximate index.
   */
  public Batch prepareBatch(String modelId, IdRefs users, int k, Boolean excludeSeen,
      IdRefs allowed, IdRefs denied, boolean exact) {
    return prepareBatch(modelId, users, k, excludeSeen, allowed, denied, exact,
        UnknownUserFallback.ERROR);
  }

  /**
   * As {@link #prepareBatch(String, IdRefs, int, Boolean, IdRefs, IdRefs, boolean)}, answering
   * a user the model has never seen as Recommend does: with {@code unknownUser}'s fallback
   * (popular or top-rated items, the same for every such user), or refusing the whole batch
   * naming the user's index when it is {@link UnknownUserFallback#ERROR}.
   *
   * @throws PreconditionFailedException for a top-rated fallback on a model without values,
   *     when the batch has an unknown user
   */
  public Batch prepareBatch(String modelId, IdRefs users, int k, Boolean excludeSeen,
      IdRefs allowed, IdRefs denied, boolean exact, UnknownUserFallback unknownUser) {
    ServedModel m = models.getModel(modelId);
    int want = checkK(k);
    boolean keep = unknownUser != UnknownUserFallback.ERROR;
    int[] positions = IdResolver.resolve(users, m.users(), "user", true, keep, "");
    if (positions.length == 0) {
      throw new InvalidRequestException(IdResolver.field(users, m.users()), "is empty; give at"
          + " least one user");
    }
    Candidates c = candidates(m, allowed, denied);
    Ranked fallback = null;
    for (int u : positions) {
      if (u < 0) {
        // One answer serves every unknown user: it depends on the model and filters only.
        fallback = fallback(m, unknownUser, c, want, 0);
        break;
      }
    }
    return new Batch(m, positions, want, excludeSeen(m, excludeSeen), c, exact, fallback);
  }

  /**
   * A checked RecommendBatch: users resolved, filters resolved, nothing computed yet.
   * Immutable; {@link #compute} may be called from any thread.
   */
  public final class Batch {
    private final ServedModel model;
    private final int[] users;
    private final int k;
    private final boolean exclude;
    private final Candidates candidates;
    private final boolean exact;
    /** The answer for users the model has never seen; null when there are none. */
    private final Ranked fallback;

    private Batch(ServedModel model, int[] users, int k, boolean exclude, Candidates candidates,
        boolean exact, Ranked fallback) {
      this.model = model;
      this.users = users;
      this.k = k;
      this.exclude = exclude;
      this.candidates = candidates;
      this.exact = exact;
      this.fallback = fallback;
    }

    private Ranked one(int j) {
      return users[j] < 0 ? fallback
          : rankKnown(model, users[j], exclude, candidates, k, 0, exact);
    }

    /** Returns the number of users. */
    public int size() {
      return users.length;
    }

    /** Returns the item ids the results name positions in. */
    public IdIndex items() {
      return model.items();
    }

    /**
     * Computes the recommendations of users [from, to), in request order, spreading them over
     * the query pool (every core) when there is more than a task's worth.
     */
    public Ranked[] compute(int from, int to) {
      Ranked[] out = new Ranked[to - from];
      if (to - from <= USERS_PER_TASK) {
        for (int j = from; j < to; j++) {
          out[j - from] = one(j);
        }
      } else {
        pool.invoke(new Task(from, to, from, out));
      }
      return out;
    }

    /** Splits a range of users in halves down to {@link #USERS_PER_TASK}. */
    private final class Task extends RecursiveAction {
      private static final long serialVersionUID = 1L;
      private final int from;
      private final int to;
      private final int base;
      private final transient Ranked[] out;

      Task(int from, int to, int base, Ranked[] out) {
        this.from = from;
        this.to = to;
        this.base = base;
        this.out = out;
      }

      @Override
      protected void compute() {
        if (to - from <= USERS_PER_TASK) {
          for (int j = from; j < to; j++) {
            out[j - base] = one(j);
          }
          return;
        }
        int mid = (from + to) >>> 1;
        invokeAll(new Task(from, mid, base, out), new Task(mid, to, base, out));
      }
    }
  }

  private Ranked rankKnown(ServedModel m, int u, boolean exclude, Candidates c, int k,
      int offset, boolean exact) {
    FactorModel f = m.factors();
    float[] vector = ItemScorer.Scratch.get().vector(f.numFactors());
    f.userVector(u, vector);
    return rank(m, vector, f.globalMean() + f.userBias(u), exclude ? m.seen().items(u) : null,
        c, k, offset, exact);
  }

  /**
   * Ranks the candidate items for a query vector.
   *
   * @param seen the user's items, ascending, to leave out; null to keep them
   */
  private static Ranked rank(ServedModel m, float[] vector, double base, int[] seen,
      Candidates c, int k, int offset, boolean exact) {
    FactorModel f = m.factors();
    int[] excluded = seen == null ? c.denied : union(seen, c.denied);
    int pool = c.allowed == null ? f.numItems() : c.allowed.length;
    int capacity = (int) Math.min(pool, (long) offset + k);
    ItemScorer.Query q = new ItemScorer.Query(f, false, vector, ItemScorer.Kind.PREDICT, base,
        m.scanIndex());
    HnswIndex index = ApproximateTopK.usable(m, AnnTarget.RECOMMEND, exact);
    if (index != null) {
      Ranked r = ApproximateTopK.rank(m, AnnTarget.RECOMMEND, index, q, excluded, c.allowed,
          capacity, offset);
      if (r != null) {
        return r;
      }
    }
    ItemScorer.Scratch scratch = ItemScorer.Scratch.get();
    TopK top = scratch.heap(capacity);
    if (c.allowed == null) {
      ItemScorer.scan(q, excluded, top, scratch);
    } else {
      ItemScorer.scanSubset(q, c.allowed, excluded, top, scratch.buffer);
    }
    return drain(top, offset, m.items());
  }

  static Ranked drain(TopK top, int offset, IdIndex ids) {
    int n = top.size();
    int[] positions = new int[n];
    float[] scores = new float[n];
    top.drainBestFirst(positions, scores);
    if (offset == 0) {
      return new Ranked(ids, positions, scores);
    }
    int from = Math.min(offset, n);
    return new Ranked(ids, Arrays.copyOfRange(positions, from, n),
        Arrays.copyOfRange(scores, from, n));
  }

  /**
   * Whether a request leaves out seen items: as asked, else on for models whose absent entries
   * are unknown or implicit (a seen item is no news) and off for zero (counts: what a document
   * has is what it is about). A model trained on a dense matrix has seen every item, so its
   * default is off.
   */
  static boolean excludeSeen(ServedModel m, Boolean asked) {
    if (asked != null) {
      return asked;
    }
    boolean complete = m.seen().entries() >= (long) m.users().size() * m.items().size();
    return m.metadata().absentEntries() != AbsentEntries.ZERO && !complete;
  }

  /** The allowed items (ascending, distinct; null for every item) and the denied ones. */
  private record Candidates(int[] allowed, int[] denied) { }

  private static Candidates candidates(ServedModel m, IdRefs allowed, IdRefs denied) {
    int[] a = null;
    if (allowed != null && allowed.size() > 0) {
      a = sortedDistinct(IdResolver.resolve(allowed, m.items(), "item", true));
    }
    int[] d = denied == null ? new int[0]
        : sortedDistinct(IdResolver.resolve(denied, m.items(), "item", true));
    return new Candidates(a, d);
  }

  private static int[] sortedDistinct(int[] positions) {
    int[] s = positions.clone();
    Arrays.sort(s);
    int n = 0;
    for (int i = 0; i < s.length; i++) {
      if (n == 0 || s[i] != s[n - 1]) {
        s[n++] = s[i];
      }
    }
    return n == s.length ? s : Arrays.copyOf(s, n);
  }

  /** Merges two ascending distinct arrays into one. */
  private static int[] union(int[] a, int[] b) {
    if (b.length == 0) {
      return a;
    }
    if (a.length == 0) {
      return b;
    }
    int[] out = new int[a.length + b.length];
    int i = 0;
    int j = 0;
    int n = 0;
    while (i < a.length || j < b.length) {
      int next;
      if (j == b.length || i < a.length && a[i] < b[j]) {
        next = a[i++];
      } else if (i == a.length || b[j] < a[i]) {
        next = b[j++];
      } else {
        next = a[i++];
        j++;
      }
      out[n++] = next;
    }
    return n == out.length ? out : Arrays.copyOf(out, n);
  }

  private static int checkK(int k) {
    if (k < 0) {
      throw new InvalidRequestException("k", "is " + k + "; it must be at least 0 (0 means "
          + DEFAULT_K + ")");
    }
    return k == 0 ? DEFAULT_K : k;
  }

  private static int knownUser(ServedModel m, IdRefs user) {
    return knownUser(m, user, false);
  }

  /** The user's position; -1 for an unknown one when {@code keepUnknown}, else refused. */
  private static int knownUser(ServedModel m, IdRefs user, boolean keepUnknown) {
    if (user == null || user.size() != 1) {
      throw new InvalidRequestException("user", "is not set; give user_id, user_key or"
          + " user_history");
    }
    return IdResolver.resolve(user, m.users(), "user", false, keepUnknown, "")[0];
  }

  /**
   * The answer for a user the model has never seen: the candidates in the model's popularity
   * order (by count, or by shrunk mean), denied items left out, paged by offset.
   */
  private static Ranked fallback(ServedModel m, UnknownUserFallback how, Candidates c, int k,
      int offset) {
    Popularity p = m.popularity();
    boolean mean = how == UnknownUserFallback.TOP_RATED;
    if (mean && !p.hasMeans()) {
      throw new PreconditionFailedException("model '" + m.id() + "' has no entry values to"
          + " rank items by mean (its factors were imported, or an older server stored it);"
          + " ask for unknown_user = UNKNOWN_USER_FALLBACK_POPULAR");
    }
    int want = (int) Math.min((long) offset + k, p.items());
    TopK top = ItemScorer.Scratch.get().heap(want);
    int[] kept = c.allowed == null ? p.top(mean) : null;
    int taken = 0;
    if (kept != null) {
      // The kept best-first list: the first want items not denied are the answer.
      for (int j = 0; j < kept.length && taken < want; j++) {
        if (Arrays.binarySearch(c.denied, kept[j]) < 0) {
          top.offer(kept[j], p.score(kept[j], mean));
          taken++;
        }
      }
    }
    if (taken < want && (kept == null || kept.length < p.items())) {
      // An allowed list, or a page beyond the kept list: rank every candidate.
      top = ItemScorer.Scratch.get().heap(want);
      int[] pool = c.allowed;
      int e = 0;
      for (int j = 0, n = pool == null ? p.items() : pool.length; j < n; j++) {
        int i = pool == null ? j : pool[j];
        while (e < c.denied.length && c.denied[e] < i) {
          e++;
        }
        if (e < c.denied.length && c.denied[e] == i) {
          continue;
        }
        top.offer(i, p.score(i, mean));
      }
    }
    Ranked r = drain(top, offset, m.items());
    return new Ranked(r.ids(), r.positions(), r.scores(), how.label());
  }

  // ---------------------------------------------------------------- explain

  /**
   * Explains a known user's score of an item by the user's history: for a solver whose fold-in
   * is least squares (ALS), each entry's exact share of the score
   * ({@link SolverProvider#explainScore}, with the regularisation the model was trained with);
   * for the others, the cosine of each history item's factors with the item's. The best
   * {@code k} entries, largest first.
   *
   * @throws InvalidRequestException for a missing or unknown user or item, or k < 0
   * @throws PreconditionFailedException for a model without its entries' values (imported
   *     factors, or a snapshot older than version 3)
   */
  public Explanation explain(String modelId, IdRefs user, IdRefs item, int k) {
    ServedModel m = models.getModel(modelId);
    int want = checkK(k);
    int u = knownUser(m, user);
    if (item == null || item.size() != 1) {
      throw new InvalidRequestException("item", "is not set; give item_id or item_key");
    }
    int i = IdResolver.resolve(item, m.items(), "item", false)[0];
    if (!m.seen().hasValues()) {
      throw new PreconditionFailedException("model '" + m.id() + "' does not hold the values"
          + " of its users' entries (its factors were imported, or it was stored in a snapshot"
          + " older than version 3), so its scores cannot be explained by them; fit it again"
          + " to explain it");
    }
    FactorModel f = m.factors();
    float score = (float) f.predict(u, i);
    int[] items = m.seen().items(u);
    float[] values = m.seen().values(u);
    ScoreContributions shares = null;
    if (items.length > 0) {
      SolverProvider provider = solvers.get(m.metadata().solver());
      try {
        shares = provider.explainScore(f, m.config(), items, values, i);
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        throw new UnsupportedQueryException("model '" + m.id() + "' cannot be explained: "
            + e.getMessage());
      }
    }
    double[] weights = shares != null ? shares.contributions() : similarities(f, i, items);
    Explanation.Method method = shares != null ? Explanation.Method.LEAST_SQUARES
        : Explanation.Method.SIMILARITY;
    Integer[] order = new Integer[items.length];
    for (int j = 0; j < order.length; j++) {
      order[j] = j;
    }
    // Largest first; the history is ascending by position, so a stable sort keeps ties so.
    Arrays.sort(order, (a, b) -> Double.compare(weights[b], weights[a]));
    int n = Math.min(want, items.length);
    int[] positions = new int[n];
    float[] kept = new float[n];
    double[] contributions = new double[n];
    for (int j = 0; j < n; j++) {
      positions[j] = items[order[j]];
      kept[j] = values[order[j]];
      contributions[j] = weights[order[j]];
    }
    double base = shares != null ? shares.base() : Double.NaN;
    double explained = shares != null ? shares.score() : Double.NaN;
    return new Explanation(m.items(), score, method, base, explained, positions, kept,
        contributions, items.length);
  }

  /** The cosine of each history item's factors with item i's (0 for a zero vector). */
  private static double[] similarities(FactorModel f, int i, int[] items) {
    int k = f.numFactors();
    float[] x = new float[k];
    float[] y = new float[k];
    f.itemVector(i, x);
    double xx = 0;
    for (float a : x) {
      xx += (double) a * a;
    }
    double[] out = new double[items.length];
    for (int j = 0; j < items.length; j++) {
      f.itemVector(items[j], y);
      double dot = 0;
      double yy = 0;
      for (int c = 0; c < k; c++) {
        dot += (double) x[c] * y[c];
        yy += (double) y[c] * y[c];
      }
      out[j] = xx == 0 || yy == 0 ? 0 : dot / Math.sqrt(xx * yy);
    }
    return out;
  }

  // ---------------------------------------------------------------- similar

  /**
   * Returns the items most similar to an item, the item itself left out.
   *
   * @param item one item id or key
   * @throws InvalidRequestException for a missing or unknown item, the wrong form, or k < 0
   */
  public Ranked similarItems(String modelId, IdRefs item, int k, Similarity similarity) {
    return similar(modelId, false, item, k, similarity, false);
  }

  /** As {@link #similarItems(String, IdRefs, int, Similarity)}; {@code exact} scans. */
  public Ranked similarItems(String modelId, IdRefs item, int k, Similarity similarity,
      boolean exact) {
    return similar(modelId, false, item, k, similarity, exact);
  }

  /**
   * Returns the users most similar to a user, the user itself left out.
   *
   * @param user one user id or key
   * @throws InvalidRequestException for a missing or unknown user, the wrong form, or k < 0
   */
  public Ranked similarUsers(String modelId, IdRefs user, int k, Similarity similarity) {
    return similar(modelId, true, user, k, similarity, false);
  }

  /** As {@link #similarUsers(String, IdRefs, int, Similarity)}; {@code exact} scans. */
  public Ranked similarUsers(String modelId, IdRefs user, int k, Similarity similarity,
      boolean exact) {
    return similar(modelId, true, user, k, similarity, exact);
  }

  /** Ranks one side's rows (users, or items) by similarity to one of them, itself left out. */
  private Ranked similar(String modelId, boolean users, IdRefs row, int k,
      Similarity similarity, boolean exact) {
    ServedModel m = models.getModel(modelId);
    int want = checkK(k);
    String side = users ? "user" : "item";
    if (row == null || row.size() != 1) {
      throw new InvalidRequestException(side, "is not set; give " + side + "_id or " + side
          + "_key");
    }
    IdIndex ids = users ? m.users() : m.items();
    int self = IdResolver.resolve(row, ids, side, false)[0];
    FactorModel f = m.factors();
    ItemScorer.Scratch scratch = ItemScorer.Scratch.get();
    float[] vector = scratch.vector(f.numFactors());
    if (users) {
      f.userVector(self, vector);
    } else {
      f.itemVector(self, vector);
    }
    int capacity = Math.min(want, (users ? f.numUsers() : f.numItems()) - 1);
    ItemScorer.Query q = new ItemScorer.Query(f, users, vector,
        similarity == Similarity.DOT ? ItemScorer.Kind.DOT : ItemScorer.Kind.COSINE, 0,
        m.scanIndex());
    AnnTarget target = users ? AnnTarget.SIMILAR_USERS : AnnTarget.SIMILAR_ITEMS;
    HnswIndex index = similarity == Similarity.COSINE
        ? ApproximateTopK.usable(m, target, exact) : null;
    if (index != null) {
      Ranked r = ApproximateTopK.rank(m, target, index, q, new int[] {self}, null, capacity, 0);
      if (r != null) {
        return r;
      }
    }
    TopK top = scratch.heap(capacity);
    ItemScorer.scan(q, new int[] {self}, top, scratch);
    return drain(top, 0, ids);
  }

  // ---------------------------------------------------------------- rows and fold-in

  /**
   * Returns the predicted score of every item for one user, known or folded in, in the
   * model's item order.
   *
   * @param user one user id or key, or null when {@code history} is given
   * @param history a new user's entries, or null
   */
  public ScoredRow predictRow(String modelId, IdRefs user, UserHistory history) {
    ServedModel m = models.getModel(modelId);
    FactorModel f = m.factors();
    float[] vector;
    double base;
    if (history != null) {
      FoldedUser u = foldIn(m, history).factors();
      vector = u.factors();
      base = f.globalMean() + u.bias();
    } else {
      int u = knownUser(m, user);
      vector = ItemScorer.Scratch.get().vector(f.numFactors());
      f.userVector(u, vector);
      base = f.globalMean() + f.userBias(u);
    }
    float[] scores = new float[f.numItems()];
    ItemScorer.scoreAll(new ItemScorer.Query(f, false, vector, ItemScorer.Kind.PREDICT, base,
        m.scanIndex()), scores, ItemScorer.Scratch.get().buffer);
    return new ScoredRow(m.items(), scores);
  }

  /**
   * Solves for a new user's factors (and bias, for a model with biases) from their entries,
   * with the model's own solver; the model is unchanged.
   *
   * @throws InvalidRequestException for a malformed history (empty, lengths differ, a repeated
   *     or unknown item, a non-finite value, a value the model cannot take)
   * @throws UnsupportedQueryException if the model's solver cannot fold in users
   */
  public FoldedUser foldIn(String modelId, UserHistory history) {
    return foldIn(models.getModel(modelId), history).factors();
  }

  /** A folded-in user: the solver's answer and the user's items, ascending. */
  private record Folded(FoldedUser factors, int[] items) { }

  private Folded foldIn(ServedModel m, UserHistory h) {
    if (h == null) {
      throw new InvalidRequestException("user_history", "is not set; give the new user's"
          + " items and values");
    }
    String itemsField = IdResolver.field(h.items(), m.items());
    int[] items = IdResolver.resolve(h.items(), m.items(), "item", true);
    if (items.length == 0) {
      throw new InvalidRequestException(itemsField, "is empty; give at least one (item, value)"
          + " entry");
    }
    float[] values = h.values();
    if (values.length != items.length) {
      throw new InvalidRequestException(h.valuesField(), "has " + values.length + " values for "
          + items.length + " items; give one value per item");
    }
    for (int j = 0; j < values.length; j++) {
      if (!Float.isFinite(values[j])) {
        throw new InvalidRequestException(h.valuesField() + "[" + j + "]", "is " + values[j]
            + "; values must be finite");
      }
    }
    int[] sorted = items.clone();
    Arrays.sort(sorted);
    for (int j = 1; j < sorted.length; j++) {
      if (sorted[j] == sorted[j - 1]) {
        int second = lastIndexOf(items, sorted[j]);
        throw new InvalidRequestException(itemsField + "[" + second + "]", "repeats item "
            + m.items().describe(sorted[j]) + "; give each item once");
      }
    }
    SolverProvider provider = solvers.get(m.metadata().solver());
    FoldedUser u;
    try {
      u = provider.foldInUser(m.factors(), m.config(), items, values);
    } catch (InvalidParameterException e) {
      String field = e.parameter().equals("values") ? h.valuesField()
          : "user_history." + e.parameter();
      throw new InvalidRequestException(field, e.getMessage());
    } catch (UnsupportedOperationException e) {
      throw new UnsupportedQueryException("model '" + m.id() + "' cannot fold in new users: "
          + e.getMessage());
    }
    for (float x : u.factors()) {
      if (!Float.isFinite(x)) {
        throw new InvalidRequestException(h.valuesField(), "are too large to fold in: the"
            + " user's factors overflow float32");
      }
    }
    if (!Float.isFinite(u.bias())) {
      throw new InvalidRequestException(h.valuesField(), "are too large to fold in: the user's"
          + " bias overflows float32");
    }
    return new Folded(u, sorted);
  }

  private static int lastIndexOf(int[] a, int v) {
    for (int j = a.length - 1; j >= 0; j--) {
      if (a[j] == v) {
        return j;
      }
    }
    return -1;
  }
}
