package io.mfserve.client;

import com.google.protobuf.CodedOutputStream;
import io.grpc.Status;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * A trained model's factors, copied from the server: the user factors U (users × k), the item
 * factors V (items × k), the ids or keys naming their rows, the biases if the model has them, and
 * the model's {@link ModelInfo}.
 *
 * <p>The model predicts entry (u, i) as {@code U[u]·V[i]}, plus {@code globalBias + userBias[u] +
 * itemBias[i]} when {@link #hasBiases()}; {@link #reconstruct()} computes that for every entry.
 *
 * <p>Factors come from a server ({@link MfClient#getFactors}, {@link
 * MatrixFactorization#getFactors}) or are built from plain arrays trained anywhere with {@link
 * #builder()}; either kind can be imported into a server as a served model ({@link
 * MfClient#importFactors}, {@link MatrixFactorization#fromFactors}), so factors read from one
 * server can be imported into another unchanged, bit for bit.
 *
 * <p>Immutable and thread-safe. Each side is held as one contiguous row-major float32 array, as on
 * the server; the array accessors return fresh copies, so callers may modify what they get.
 */
public final class Factors {
  /** Above this many entries {@link #reconstruct()} refuses: the result would not fit in memory. */
  static final long MAX_RECONSTRUCT_ENTRIES = 100_000_000L;

  private final ModelInfo info;
  private final int k;
  private final Side users;
  private final Side items;
  private final boolean hasBiases;
  private final double globalBias;

  /** One side of the model: its rows, their names and biases. */
  private record Side(int rows, float[] factors, IdForm form, long[] ids, String[] keys,
      float[] biases) {}

  private Factors(ModelInfo info, int k, Side users, Side items, boolean hasBiases,
      double globalBias) {
    this.info = info;
    this.k = k;
    this.users = users;
    this.items = items;
    this.hasBiases = hasBiases;
    this.globalBias = globalBias;
  }

  /**
   * Starts plain factors, trained anywhere (Spark MLlib, implicit, a notebook), for import into
   * a server with {@link MatrixFactorization#fromFactors} or {@link MfClient#importFactors}.
   *
   * <pre>{@code
   * Factors factors = Factors.builder()
   *     .users(userIds, userFactors)          // long[] ids or String[] keys; float[users][k]
   *     .items(itemIds, itemFactors)          // float[items][k]
   *     .biases(globalMean, userBiases, itemBiases)   // optional
   *     .build();
   * }</pre>
   *
   * @return an empty builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The model's description: from the first chunk of the stream for factors downloaded from a
   * server; for factors made with {@link #builder()}, a description of their shape only (no
   * model id, solver or training history).
   *
   * @return the model info
   */
  public ModelInfo info() {
    return info;
  }

  /**
   * The model's id.
   *
   * @return the model id; empty for factors made with {@link #builder()}
   */
  public String modelId() {
    return info.getModelId();
  }

  /**
   * The number of latent factors, k.
   *
   * @return the rank
   */
  public int numFactors() {
    return k;
  }

  /**
   * The number of users (rows of U).
   *
   * @return the user count
   */
  public int numUsers() {
    return users.rows;
  }

  /**
   * The number of items (rows of V).
   *
   * @return the item count
   */
  public int numItems() {
    return items.rows;
  }

  /**
   * The user factors U, users × k.
   *
   * @return a new array, row u being the factors of the user named by {@code userIds()[u]} or
   *     {@code userKeys()[u]}
   */
  public float[][] userFactors() {
    return toRows(users);
  }

  /**
   * The item factors V, items × k.
   *
   * @return a new array, row i being the factors of the item named by {@code itemIds()[i]} or
   *     {@code itemKeys()[i]}
   */
  public float[][] itemFactors() {
    return toRows(items);
  }

  /**
   * The user factors as one row-major array, users × k, as the server holds them.
   *
   * @return a new array of {@code numUsers() * numFactors()} values
   */
  public float[] userFactorsFlat() {
    return users.factors.clone();
  }

  /**
   * The item factors as one row-major array, items × k, as the server holds them.
   *
   * @return a new array of {@code numItems() * numFactors()} values
   */
  public float[] itemFactorsFlat() {
    return items.factors.clone();
  }

  /**
   * How users are named: {@link IdForm#ID_FORM_INT64} (see {@link #userIds()}) or {@link
   * IdForm#ID_FORM_STRING} (see {@link #userKeys()}).
   *
   * @return the user id form
   */
  public IdForm userIdForm() {
    return users.form;
  }

  /**
   * How items are named: {@link IdForm#ID_FORM_INT64} (see {@link #itemIds()}) or {@link
   * IdForm#ID_FORM_STRING} (see {@link #itemKeys()}).
   *
   * @return the item id form
   */
  public IdForm itemIdForm() {
    return items.form;
  }

  /**
   * The int64 id of each user row.
   *
   * @return a new array of {@code numUsers()} ids; empty for models with string user keys
   */
  public long[] userIds() {
    return users.ids.clone();
  }

  /**
   * The int64 id of each item row.
   *
   * @return a new array of {@code numItems()} ids; empty for models with string item keys
   */
  public long[] itemIds() {
    return items.ids.clone();
  }

  /**
   * The key of each user row.
   *
   * @return a new array of {@code numUsers()} keys; empty for models with int64 user ids
   */
  public String[] userKeys() {
    return users.keys.clone();
  }

  /**
   * The key of each item row.
   *
   * @return a new array of {@code numItems()} keys; empty for models with int64 item ids
   */
  public String[] itemKeys() {
    return items.keys.clone();
  }

  /**
   * The name of user row {@code u} as text: its key, or its id in decimal.
   *
   * @param u the row, 0 ≤ u &lt; {@code numUsers()}
   * @return the user's name
   */
  public String userName(int u) {
    return name(users, u);
  }

  /**
   * The name of item row {@code i} as text: its key, or its id in decimal.
   *
   * @param i the row, 0 ≤ i &lt; {@code numItems()}
   * @return the item's name
   */
  public String itemName(int i) {
    return name(items, i);
  }

  /**
   * Whether the model has a global mean and per-user and per-item biases.
   *
   * @return true for models with biases
   */
  public boolean hasBiases() {
    return hasBiases;
  }

  /**
   * The global mean of the training entries, for models with biases.
   *
   * @return the global bias; 0 for models without biases
   */
  public double globalBias() {
    return globalBias;
  }

  /**
   * The bias of each user row, for models with biases.
   *
   * @return a new array of {@code numUsers()} biases; empty for models without biases
   */
  public float[] userBiases() {
    return users.biases.clone();
  }

  /**
   * The bias of each item row, for models with biases.
   *
   * @return a new array of {@code numItems()} biases; empty for models without biases
   */
  public float[] itemBiases() {
    return items.biases.clone();
  }

  /**
   * The model's prediction for every (user, item) entry: U·Vᵀ, plus the global, user and item
   * biases when the model has them. Meant for small models; dot products accumulate in double.
   *
   * @return a new users × items array, rows and columns in the order of the factor rows
   * @throws IllegalStateException if the result would have more than 100 million entries
   */
  public float[][] reconstruct() {
    long entries = (long) users.rows * items.rows;
    if (entries > MAX_RECONSTRUCT_ENTRIES) {
      throw new IllegalStateException(
          "reconstruct() would build " + users.rows + " x " + items.rows + " = " + entries
              + " entries; it is meant for small models (at most " + MAX_RECONSTRUCT_ENTRIES
              + "): score the pairs you need with predict or recommend instead");
    }
    float[] u = users.factors;
    float[] v = items.factors;
    float[][] out = new float[users.rows][items.rows];
    for (int a = 0; a < users.rows; a++) {
      double rowBias = hasBiases ? globalBias + users.biases[a] : 0.0;
      int ua = a * k;
      for (int b = 0; b < items.rows; b++) {
        int vb = b * k;
        double s = rowBias + (hasBiases ? items.biases[b] : 0.0);
        for (int f = 0; f < k; f++) {
          s += (double) u[ua + f] * v[vb + f];
        }
        out[a][b] = (float) s;
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "Factors{model=" + info.getModelId() + ", users=" + users.rows + ", items="
        + items.rows + ", k=" + k + ", biases=" + hasBiases + "}";
  }

  private float[][] toRows(Side side) {
    float[][] rows = new float[side.rows][];
    for (int r = 0; r < side.rows; r++) {
      rows[r] = Arrays.copyOfRange(side.factors, r * k, (r + 1) * k);
    }
    return rows;
  }

  private static String name(Side side, int row) {
    java.util.Objects.checkIndex(row, side.rows);
    return side.form == IdForm.ID_FORM_STRING ? side.keys[row] : Long.toString(side.ids[row]);
  }

  /**
   * Rebuilds the factors from a GetFactors stream: each side is the concatenation of the chunks'
   * rows of that side, in order.
   *
   * @param chunks the stream, read to its end
   * @return the factors
   * @throws MfServeException {@code INTERNAL} if the stream is empty or inconsistent
   */
  static Factors assemble(Iterator<GetFactorsResponse> chunks) {
    ModelInfo info = null;
    int k = -1;
    double globalBias = 0;
    SideBuffer users = new SideBuffer("user");
    SideBuffer items = new SideBuffer("item");
    int n = 0;
    while (chunks.hasNext()) {
      GetFactorsResponse c = chunks.next();
      if (n == 0) {
        if (!c.hasModel()) {
          throw malformed("the first chunk carries no ModelInfo");
        }
        info = c.getModel();
        globalBias = c.getGlobalBias();
        k = info.getNumFactors();
      }
      users.add(c.getUserFactors(), c.getUserIdsList(), c.getUserKeysList(),
          c.getUserBiasesList(), k, n);
      items.add(c.getItemFactors(), c.getItemIdsList(), c.getItemKeysList(),
          c.getItemBiasesList(), k, n);
      n++;
    }
    if (info == null) {
      throw malformed("the stream ended before its first chunk");
    }
    boolean hasBiases = info.getHasBiases();
    Side u = users.finish(info.getUserIdForm(), info.getNumUsers(), hasBiases);
    Side v = items.finish(info.getItemIdForm(), info.getNumItems(), hasBiases);
    return new Factors(info, Math.max(k, 0), u, v, hasBiases, hasBiases ? globalBias : 0.0);
  }

  /**
   * The rows as GetFactors-shaped chunks for ImportFactors: every user row, then every item
   * row, each chunk carrying consecutive rows of one side with their ids or keys and biases,
   * and at most about {@code budget} bytes serialized (a single row larger than that goes
   * alone). ModelInfo and the global bias are not set: ImportFactors takes them from its header.
   * An empty side sends no chunk.
   */
  Iterator<GetFactorsResponse> toChunks(int budget) {
    return new Chunks(budget);
  }

  /** Cuts the user side, then the item side, into chunks under the budget. */
  private final class Chunks implements Iterator<GetFactorsResponse> {
    private final int budget;
    private boolean onItems;
    private int next;

    Chunks(int budget) {
      this.budget = budget;
      skipEmpty();
    }

    private Side side() {
      return onItems ? items : users;
    }

    private void skipEmpty() {
      if (!onItems && next >= users.rows) {
        onItems = true;
        next = 0;
      }
    }

    @Override
    public boolean hasNext() {
      return !onItems || next < items.rows;
    }

    @Override
    public GetFactorsResponse next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Side side = side();
      int end = next;
      long bytes = 0;
      while (end < side.rows) {
        long row = rowBytes(side, end);
        if (bytes + row > budget && end > next) {
          break;
        }
        bytes += row;
        end++;
      }
      DenseMatrix.Builder m = DenseMatrix.newBuilder().setRows(end - next).setCols(k);
      for (int i = next * k; i < end * k; i++) {
        m.addValues(side.factors[i]);
      }
      GetFactorsResponse.Builder c = GetFactorsResponse.newBuilder();
      boolean keys = side.form == IdForm.ID_FORM_STRING;
      for (int r = next; r < end; r++) {
        if (onItems) {
          if (keys) {
            c.addItemKeys(side.keys[r]);
          } else {
            c.addItemIds(side.ids[r]);
          }
          if (hasBiases) {
            c.addItemBiases(side.biases[r]);
          }
        } else {
          if (keys) {
            c.addUserKeys(side.keys[r]);
          } else {
            c.addUserIds(side.ids[r]);
          }
          if (hasBiases) {
            c.addUserBiases(side.biases[r]);
          }
        }
      }
      if (onItems) {
        c.setItemFactors(m);
      } else {
        c.setUserFactors(m);
      }
      next = end;
      skipEmpty();
      return c.build();
    }

    /** One row's share of a chunk: its factors, its id or key, and its bias. */
    private long rowBytes(Side side, int r) {
      long n = 4L * k + (hasBiases ? 4 : 0);
      if (side.form == IdForm.ID_FORM_STRING) {
        n += 1 + CodedOutputStream.computeStringSizeNoTag(side.keys[r]);
      } else {
        n += CodedOutputStream.computeInt64SizeNoTag(side.ids[r]);
      }
      return n;
    }
  }

  /**
   * Plain factors from arrays: each side's factor rows with their int64 ids or string keys (or
   * positions 0..n-1), and optionally the biases of a model that predicts {@code globalMean +
   * userBias[u] + itemBias[i] + U[u]·V[i]}. Every row of both sides must have the same length k,
   * at least 1. The arrays are copied by {@link #build()}. Ids and keys must be distinct within
   * a side; the server checks that on import.
   *
   * <p>Not thread-safe: build on one thread.
   */
  public static final class Builder {
    private SideInput users;
    private SideInput items;
    private boolean hasBiases;
    private double globalMean;
    private float[] userBiases;
    private float[] itemBiases;

    private record SideInput(float[][] factors, long[] ids, String[] keys) {}

    private Builder() {}

    /**
     * The user factors, users named by their positions 0..n-1 (as for a dense matrix).
     *
     * @param factors one row of k factors per user
     * @return this, for chaining
     */
    public Builder users(float[][] factors) {
      users = new SideInput(Objects.requireNonNull(factors, "factors"), null, null);
      return this;
    }

    /**
     * The user factors, users named by int64 ids.
     *
     * @param ids the id of each row, distinct
     * @param factors one row of k factors per id
     * @return this, for chaining
     */
    public Builder users(long[] ids, float[][] factors) {
      users = new SideInput(Objects.requireNonNull(factors, "factors"),
          Objects.requireNonNull(ids, "ids"), null);
      return this;
    }

    /**
     * The user factors, users named by string keys.
     *
     * @param keys the key of each row, distinct
     * @param factors one row of k factors per key
     * @return this, for chaining
     */
    public Builder users(String[] keys, float[][] factors) {
      users = new SideInput(Objects.requireNonNull(factors, "factors"), null,
          Objects.requireNonNull(keys, "keys"));
      return this;
    }

    /**
     * The item factors, items named by their positions 0..n-1 (as for a dense matrix).
     *
     * @param factors one row of k factors per item
     * @return this, for chaining
     */
    public Builder items(float[][] factors) {
      items = new SideInput(Objects.requireNonNull(factors, "factors"), null, null);
      return this;
    }

    /**
     * The item factors, items named by int64 ids.
     *
     * @param ids the id of each row, distinct
     * @param factors one row of k factors per id
     * @return this, for chaining
     */
    public Builder items(long[] ids, float[][] factors) {
      items = new SideInput(Objects.requireNonNull(factors, "factors"),
          Objects.requireNonNull(ids, "ids"), null);
      return this;
    }

    /**
     * The item factors, items named by string keys.
     *
     * @param keys the key of each row, distinct
     * @param factors one row of k factors per key
     * @return this, for chaining
     */
    public Builder items(String[] keys, float[][] factors) {
      items = new SideInput(Objects.requireNonNull(factors, "factors"), null,
          Objects.requireNonNull(keys, "keys"));
      return this;
    }

    /**
     * Makes the factors those of a biased model, μ + b_u + b_i + U[u]·V[i] (as {@code sgd}
     * trains, and Surprise's or LibMF's biased MF).
     *
     * @param globalMean μ, the global mean
     * @param userBiases b_u, one per user row
     * @param itemBiases b_i, one per item row
     * @return this, for chaining
     */
    public Builder biases(double globalMean, float[] userBiases, float[] itemBiases) {
      this.hasBiases = true;
      this.globalMean = globalMean;
      this.userBiases = Objects.requireNonNull(userBiases, "userBiases");
      this.itemBiases = Objects.requireNonNull(itemBiases, "itemBiases");
      return this;
    }

    /**
     * Checks the shapes and copies the arrays.
     *
     * @return the factors
     * @throws IllegalStateException if a side is missing
     * @throws IllegalArgumentException if rows differ in length, k is 0, or ids, keys or
     *     biases do not number the rows
     */
    public Factors build() {
      if (users == null || items == null) {
        throw new IllegalStateException("give both sides: users(...) and items(...)");
      }
      int k = users.factors.length > 0 ? rowLength(users.factors, 0, "user")
          : items.factors.length > 0 ? rowLength(items.factors, 0, "item") : 0;
      if (k < 1) {
        throw new IllegalArgumentException(
            "no factors: give at least one user or item row of k >= 1 factors");
      }
      Side u = side(users, k, "user", hasBiases ? userBiases : null);
      Side v = side(items, k, "item", hasBiases ? itemBiases : null);
      ModelInfo info = ModelInfo.newBuilder()
          .setNumFactors(k)
          .setNumUsers(u.rows)
          .setNumItems(v.rows)
          .setUserIdForm(u.form)
          .setItemIdForm(v.form)
          .setHasBiases(hasBiases)
          .build();
      return new Factors(info, k, u, v, hasBiases, hasBiases ? globalMean : 0.0);
    }

    private static int rowLength(float[][] rows, int r, String side) {
      if (rows[r] == null) {
        throw new IllegalArgumentException(side + " row " + r + " is null");
      }
      return rows[r].length;
    }

    private static Side side(SideInput in, int k, String name, float[] biases) {
      int rows = in.factors.length;
      float[] flat = new float[Math.multiplyExact(rows, k)];
      for (int r = 0; r < rows; r++) {
        int length = rowLength(in.factors, r, name);
        if (length != k) {
          throw new IllegalArgumentException(name + " row " + r + " has " + length
              + " factors; every row of both sides needs k = " + k);
        }
        System.arraycopy(in.factors[r], 0, flat, r * k, k);
      }
      IdForm form = in.keys != null ? IdForm.ID_FORM_STRING : IdForm.ID_FORM_INT64;
      long[] ids = new long[0];
      String[] keys = new String[0];
      if (in.keys != null) {
        count(in.keys.length, rows, name + " keys");
        keys = in.keys.clone();
        for (int r = 0; r < rows; r++) {
          if (keys[r] == null) {
            throw new IllegalArgumentException(name + " key " + r + " is null");
          }
        }
      } else if (in.ids != null) {
        count(in.ids.length, rows, name + " ids");
        ids = in.ids.clone();
      } else {
        ids = new long[rows];
        for (int r = 0; r < rows; r++) {
          ids[r] = r;
        }
      }
      float[] b = new float[0];
      if (biases != null) {
        count(biases.length, rows, name + " biases");
        b = biases.clone();
      }
      return new Side(rows, flat, form, ids, keys, b);
    }

    private static void count(int given, int rows, String what) {
      if (given != rows) {
        throw new IllegalArgumentException(given + " " + what + " for " + rows
            + " rows; give one per row");
      }
    }
  }

  static MfServeException malformed(String what) {
    return new MfServeException(
        Status.INTERNAL.withDescription("malformed GetFactors stream: " + what), List.of());
  }

  /** Accumulates one side's rows across chunks without boxing. */
  private static final class SideBuffer {
    private final String side;
    private float[] factors = new float[1024];
    private int values;
    private int rows;
    private long[] ids = new long[64];
    private int numIds;
    private final List<String> keys = new ArrayList<>();
    private float[] biases = new float[64];
    private int numBiases;

    SideBuffer(String side) {
      this.side = side;
    }

    void add(DenseMatrix m, List<Long> chunkIds, List<String> chunkKeys, List<Float> chunkBiases,
        int k, int chunk) {
      int r = m.getRows();
      if (r == 0 && m.getValuesCount() == 0) {
        return;
      }
      if (m.getCols() != k || m.getValuesCount() != (long) r * k) {
        throw malformed("chunk " + chunk + " has " + r + " x " + m.getCols() + " " + side
            + " factors with " + m.getValuesCount() + " values; the model has " + k + " factors");
      }
      factors = ensure(factors, values + m.getValuesCount());
      for (int i = 0; i < m.getValuesCount(); i++) {
        factors[values++] = m.getValues(i);
      }
      rows += r;
      if (!chunkIds.isEmpty()) {
        ids = ensure(ids, numIds + chunkIds.size());
        for (Long id : chunkIds) {
          ids[numIds++] = id;
        }
      }
      keys.addAll(chunkKeys);
      if (!chunkBiases.isEmpty()) {
        biases = ensure(biases, numBiases + chunkBiases.size());
        for (Float b : chunkBiases) {
          biases[numBiases++] = b;
        }
      }
    }

    Side finish(IdForm declared, long declaredRows, boolean hasBiases) {
      if (declaredRows != rows) {
        throw malformed("the model has " + declaredRows + " " + side + "s but the stream carried "
            + rows + " " + side + " rows");
      }
      IdForm form = declared;
      if (form == IdForm.ID_FORM_UNSPECIFIED || form == IdForm.UNRECOGNIZED) {
        form = keys.isEmpty() ? IdForm.ID_FORM_INT64 : IdForm.ID_FORM_STRING;
      }
      long[] outIds = new long[0];
      String[] outKeys = new String[0];
      if (form == IdForm.ID_FORM_STRING) {
        if (keys.size() != rows) {
          throw malformed("the stream carried " + keys.size() + " " + side + " keys for " + rows
              + " rows");
        }
        outKeys = keys.toArray(new String[0]);
      } else if (numIds == 0) {
        // Nothing named the rows: they are positions, as for a dense training matrix.
        outIds = new long[rows];
        for (int i = 0; i < rows; i++) {
          outIds[i] = i;
        }
      } else if (numIds != rows) {
        throw malformed("the stream carried " + numIds + " " + side + " ids for " + rows + " rows");
      } else {
        outIds = Arrays.copyOf(ids, numIds);
      }
      float[] outBiases = new float[0];
      if (hasBiases) {
        if (numBiases != rows) {
          throw malformed("the stream carried " + numBiases + " " + side + " biases for " + rows
              + " rows");
        }
        outBiases = Arrays.copyOf(biases, numBiases);
      }
      return new Side(rows, Arrays.copyOf(factors, values), form, outIds, outKeys, outBiases);
    }

    private static float[] ensure(float[] a, long needed) {
      return needed <= a.length ? a : Arrays.copyOf(a, grow(a.length, needed));
    }

    private static long[] ensure(long[] a, long needed) {
      return needed <= a.length ? a : Arrays.copyOf(a, grow(a.length, needed));
    }

    private static int grow(int length, long needed) {
      if (needed > Integer.MAX_VALUE - 8) {
        throw malformed("a side has more than 2^31 values; too large for this client");
      }
      return (int) Math.min(Integer.MAX_VALUE - 8, Math.max(needed, (long) length * 2));
    }
  }
}
