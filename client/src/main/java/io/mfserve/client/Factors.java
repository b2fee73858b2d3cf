package io.mfserve.client;

import io.grpc.Status;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * A trained model's factors, copied from the server: the user factors U (users × k), the item
 * factors V (items × k), the ids or keys naming their rows, the biases if the model has them, and
 * the model's {@link ModelInfo}.
 *
 * <p>The model predicts entry (u, i) as {@code U[u]·V[i]}, plus {@code globalBias + userBias[u] +
 * itemBias[i]} when {@link #hasBiases()}; {@link #reconstruct()} computes that for every entry.
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
   * The model's description, from the first chunk of the stream.
   *
   * @return the model info
   */
  public ModelInfo info() {
    return info;
  }

  /**
   * The model's id.
   *
   * @return the model id
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
