package io.mfserve.client.eval;

import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable list of (user, item, value) entries with each distinct user and item numbered
 * densely, so that splits, metrics and lookups work on {@code int} indices.
 *
 * <p>Users keep the form they were read in: int64 ids or string keys, one form per side, as in
 * a {@link SparseMatrix}. A dense matrix becomes one entry per cell, its row and column
 * positions as int64 ids (the ids the server gives a dense matrix), so a model trained on part
 * of it answers to the same ids.
 *
 * <p>Entry order is the input order; user and item indices are numbered in order of first
 * appearance. Thread-safe once built: nothing changes after construction.
 */
public final class Interactions {
  private final int[] entryUser;
  private final int[] entryItem;
  private final float[] values;
  /** Per user index: its id, or null when users are named by keys. */
  private final long[] userIds;
  private final String[] userKeys;
  private final long[] itemIds;
  private final String[] itemKeys;
  private final Map<Object, Integer> userIndex;
  private final Map<Object, Integer> itemIndex;

  private Interactions(Side users, Side items, float[] values) {
    this.entryUser = users.entries;
    this.entryItem = items.entries;
    this.values = values;
    this.userIds = users.ids;
    this.userKeys = users.keys;
    this.itemIds = items.ids;
    this.itemKeys = items.keys;
    this.userIndex = users.index;
    this.itemIndex = items.index;
  }

  /**
   * The entries of a matrix message: every cell of a dense matrix, or the listed entries of a
   * sparse one.
   *
   * @param matrix a dense or sparse matrix
   * @return the entries
   * @throws IllegalArgumentException if the matrix has no form set, a sparse side mixes ids
   *     and keys, or the lists differ in length
   */
  public static Interactions of(Matrix matrix) {
    return switch (matrix.getKindCase()) {
      case SPARSE -> of(matrix.getSparse());
      case DENSE -> ofDense(matrix.getDense());
      default -> throw new IllegalArgumentException("the matrix has neither form set");
    };
  }

  /**
   * The entries of a sparse matrix, in order.
   *
   * @param m the matrix
   * @return the entries
   * @throws IllegalArgumentException if a side mixes ids and keys or the lists differ in length
   */
  public static Interactions of(SparseMatrix m) {
    int n = m.getValuesCount();
    Side users = Side.of("user", n, m.getRowIdsCount(), m.getRowKeysCount());
    Side items = Side.of("item", n, m.getColIdsCount(), m.getColKeysCount());
    float[] values = new float[n];
    for (int e = 0; e < n; e++) {
      users.add(e, m.getRowIdsCount() > 0 ? (Object) m.getRowIds(e) : m.getRowKeys(e));
      items.add(e, m.getColIdsCount() > 0 ? (Object) m.getColIds(e) : m.getColKeys(e));
      values[e] = m.getValues(e);
    }
    return new Interactions(users.finish(), items.finish(), values);
  }

  private static Interactions ofDense(DenseMatrix d) {
    int rows = d.getRows();
    int cols = d.getCols();
    if ((long) rows * cols != d.getValuesCount()) {
      throw new IllegalArgumentException("the dense matrix has " + d.getValuesCount()
          + " values but rows x cols = " + rows + " x " + cols);
    }
    int n = d.getValuesCount();
    Side users = Side.of("user", n, n, 0);
    Side items = Side.of("item", n, n, 0);
    float[] values = new float[n];
    for (int e = 0; e < n; e++) {
      users.add(e, (long) (e / cols));
      items.add(e, (long) (e % cols));
      values[e] = d.getValues(e);
    }
    return new Interactions(users.finish(), items.finish(), values);
  }

  /**
   * The entries of {@code first} followed by those of {@code second}, numbered together, so
   * that a training file and a test file share user and item indices. Entries {@code 0 ..
   * first.size() - 1} are the first's.
   *
   * @param first the first entries (a training file)
   * @param second the second entries (a test file)
   * @return both, in order
   * @throws IllegalArgumentException if the two name a side in different forms (ids and keys)
   */
  public static Interactions concat(Interactions first, Interactions second) {
    if (first.userKeys() != second.userKeys() || first.itemKeys() != second.itemKeys()) {
      throw new IllegalArgumentException("the training data names "
          + first.forms() + " but the test data names " + second.forms()
          + "; both files must name users and items the same way");
    }
    int n = first.size() + second.size();
    Side users = Side.of("user", n, first.userKeys() ? 0 : n, first.userKeys() ? n : 0);
    Side items = Side.of("item", n, first.itemKeys() ? 0 : n, first.itemKeys() ? n : 0);
    float[] values = new float[n];
    int e = 0;
    for (Interactions part : new Interactions[] {first, second}) {
      for (int i = 0; i < part.size(); i++, e++) {
        users.add(e, part.userName(part.entryUser[i]));
        items.add(e, part.itemName(part.entryItem[i]));
        values[e] = part.values[i];
      }
    }
    return new Interactions(users.finish(), items.finish(), values);
  }

  /**
   * The number of entries.
   *
   * @return the entry count
   */
  public int size() {
    return values.length;
  }

  /**
   * The number of distinct users.
   *
   * @return the user count
   */
  public int numUsers() {
    return userKeys != null ? userKeys.length : userIds.length;
  }

  /**
   * The number of distinct items.
   *
   * @return the item count
   */
  public int numItems() {
    return itemKeys != null ? itemKeys.length : itemIds.length;
  }

  /**
   * The user index of an entry.
   *
   * @param entry the entry, {@code 0 .. size() - 1}
   * @return the user's dense index, {@code 0 .. numUsers() - 1}
   */
  public int user(int entry) {
    return entryUser[entry];
  }

  /**
   * The item index of an entry.
   *
   * @param entry the entry, {@code 0 .. size() - 1}
   * @return the item's dense index, {@code 0 .. numItems() - 1}
   */
  public int item(int entry) {
    return entryItem[entry];
  }

  /**
   * The value of an entry.
   *
   * @param entry the entry
   * @return its rating, count or weight
   */
  public float value(int entry) {
    return values[entry];
  }

  /**
   * Whether users are named by string keys rather than int64 ids.
   *
   * @return true for keys
   */
  public boolean userKeys() {
    return userKeys != null;
  }

  /**
   * Whether items are named by string keys rather than int64 ids.
   *
   * @return true for keys
   */
  public boolean itemKeys() {
    return itemKeys != null;
  }

  /**
   * The int64 id of a user; only when {@link #userKeys()} is false.
   *
   * @param user the user's index
   * @return its id
   */
  public long userId(int user) {
    return userIds[user];
  }

  /**
   * The key of a user; only when {@link #userKeys()} is true.
   *
   * @param user the user's index
   * @return its key
   */
  public String userKey(int user) {
    return userKeys[user];
  }

  /**
   * The int64 id of an item; only when {@link #itemKeys()} is false.
   *
   * @param item the item's index
   * @return its id
   */
  public long itemId(int item) {
    return itemIds[item];
  }

  /**
   * The key of an item; only when {@link #itemKeys()} is true.
   *
   * @param item the item's index
   * @return its key
   */
  public String itemKey(int item) {
    return itemKeys[item];
  }

  /**
   * The index of the item with an int64 id.
   *
   * @param id the item's id
   * @return its index, or -1 if no entry names it (or items are named by keys)
   */
  public int itemIndex(long id) {
    return itemIndex.getOrDefault(id, -1);
  }

  /**
   * The index of the item with a string key.
   *
   * @param key the item's key
   * @return its index, or -1 if no entry names it (or items are named by ids)
   */
  public int itemIndex(String key) {
    return itemIndex.getOrDefault(key, -1);
  }

  /**
   * The index of the user with an int64 id.
   *
   * @param id the user's id
   * @return its index, or -1 if no entry names it (or users are named by keys)
   */
  public int userIndex(long id) {
    return userIndex.getOrDefault(id, -1);
  }

  /**
   * The given entries as a sparse matrix in this data's id forms, ready for a fit or an
   * upload.
   *
   * @param entries the entries to include, by position; not modified
   * @return the matrix
   */
  public Matrix toMatrix(int[] entries) {
    SparseMatrix.Builder b = SparseMatrix.newBuilder();
    for (int e : entries) {
      int u = entryUser[e];
      int i = entryItem[e];
      if (userKeys != null) {
        b.addRowKeys(userKeys[u]);
      } else {
        b.addRowIds(userIds[u]);
      }
      if (itemKeys != null) {
        b.addColKeys(itemKeys[i]);
      } else {
        b.addColIds(itemIds[i]);
      }
      b.addValues(values[e]);
    }
    return Matrix.newBuilder().setSparse(b).build();
  }

  private Object userName(int user) {
    return userKeys != null ? userKeys[user] : (Object) userIds[user];
  }

  private Object itemName(int item) {
    return itemKeys != null ? itemKeys[item] : (Object) itemIds[item];
  }

  private String forms() {
    return "users by " + (userKeys() ? "string keys" : "int64 ids") + " and items by "
        + (itemKeys() ? "string keys" : "int64 ids");
  }

  /** Numbers one side's names densely while the entries are read. */
  private static final class Side {
    final int[] entries;
    final Map<Object, Integer> index = new HashMap<>();
    private final boolean byKeys;
    private List<Object> names = new ArrayList<>();
    /** After {@link #finish}: the name of each index, in one of the two forms. */
    long[] ids;
    String[] keys;

    private Side(int n, boolean byKeys) {
      this.entries = new int[n];
      this.byKeys = byKeys;
    }

    static Side of(String side, int n, int idCount, int keyCount) {
      if (idCount > 0 && keyCount > 0) {
        throw new IllegalArgumentException("the " + side + "s are named by both int64 ids and "
            + "string keys; use one form per side");
      }
      int count = Math.max(idCount, keyCount);
      if (count != n) {
        throw new IllegalArgumentException(n + " values but " + count + " " + side
            + " names; every entry needs one");
      }
      return new Side(n, keyCount > 0);
    }

    void add(int entry, Object name) {
      Integer i = index.get(name);
      if (i == null) {
        i = names.size();
        index.put(name, i);
        names.add(name);
      }
      entries[entry] = i;
    }

    Side finish() {
      if (byKeys) {
        keys = names.toArray(new String[0]);
      } else {
        ids = new long[names.size()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = (Long) names.get(i);
        }
      }
      names = null;
      return this;
    }
  }
}
