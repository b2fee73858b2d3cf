package io.mfserve.client;

import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;

/**
 * A sparse matrix built one entry at a time, in coordinate form: (user, item, value) triples.
 *
 * <p>Users and items are named by {@code long} ids or by {@code String} keys, one form per side
 * (the first entry decides; mixing forms on one side is an error). Ids and keys need not be
 * contiguous: the server maps them to positions. A (user, item) pair may appear once; the server
 * rejects duplicates. Which meaning an absent entry has (unknown rating, zero count, implicit
 * feedback) is chosen at fit time, see {@link MatrixFactorization#absentEntries}.
 *
 * <p>Not thread-safe: build on one thread, then hand the result on.
 */
public final class Ratings {
  private final SparseMatrix.Builder builder = SparseMatrix.newBuilder();
  private Boolean userKeys;
  private Boolean itemKeys;
  private int size;

  /** Creates an empty matrix. */
  public Ratings() {}

  /**
   * Adds an entry with int64 user and item ids.
   *
   * @param user the user (row) id
   * @param item the item (column) id
   * @param value the rating, count or weight
   * @return this, for chaining
   * @throws IllegalStateException if a side was started with string keys
   */
  public Ratings add(long user, long item, float value) {
    userKeys = checkForm(userKeys, false, "user");
    itemKeys = checkForm(itemKeys, false, "item");
    builder.addRowIds(user).addColIds(item).addValues(value);
    size++;
    return this;
  }

  /**
   * Adds an entry with string user and item keys.
   *
   * @param user the user (row) key
   * @param item the item (column) key
   * @param value the rating, count or weight
   * @return this, for chaining
   * @throws IllegalStateException if a side was started with int64 ids
   */
  public Ratings add(String user, String item, float value) {
    userKeys = checkForm(userKeys, true, "user");
    itemKeys = checkForm(itemKeys, true, "item");
    builder.addRowKeys(user).addColKeys(item).addValues(value);
    size++;
    return this;
  }

  /**
   * Adds an entry with an int64 user id and a string item key.
   *
   * @param user the user (row) id
   * @param item the item (column) key
   * @param value the rating, count or weight
   * @return this, for chaining
   * @throws IllegalStateException if a side was started with the other form
   */
  public Ratings add(long user, String item, float value) {
    userKeys = checkForm(userKeys, false, "user");
    itemKeys = checkForm(itemKeys, true, "item");
    builder.addRowIds(user).addColKeys(item).addValues(value);
    size++;
    return this;
  }

  /**
   * Adds an entry with a string user key and an int64 item id.
   *
   * @param user the user (row) key
   * @param item the item (column) id
   * @param value the rating, count or weight
   * @return this, for chaining
   * @throws IllegalStateException if a side was started with the other form
   */
  public Ratings add(String user, long item, float value) {
    userKeys = checkForm(userKeys, true, "user");
    itemKeys = checkForm(itemKeys, false, "item");
    builder.addRowKeys(user).addColIds(item).addValues(value);
    size++;
    return this;
  }

  /**
   * The number of entries added.
   *
   * @return the entry count
   */
  public int size() {
    return size;
  }

  /**
   * The entries as a {@link SparseMatrix} message.
   *
   * @return a snapshot; entries added later are not in it
   */
  public SparseMatrix toProto() {
    return builder.build();
  }

  /**
   * The entries as a {@link Matrix} message, ready for a {@code FitRequest}.
   *
   * @return a snapshot; entries added later are not in it
   */
  public Matrix toMatrix() {
    return Matrix.newBuilder().setSparse(builder.build()).build();
  }

  private static Boolean checkForm(Boolean current, boolean keys, String side) {
    if (current != null && current != keys) {
      throw new IllegalStateException(
          "this matrix names its " + side + "s by " + (current ? "string keys" : "long ids")
              + "; a side cannot mix long ids and string keys");
    }
    return keys;
  }
}
