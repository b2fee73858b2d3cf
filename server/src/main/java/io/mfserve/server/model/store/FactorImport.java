package io.mfserve.server.model.store;

import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.ids.IdForm;
import io.mfserve.server.model.ids.IdIndex;
import io.mfserve.solver.FactorModel;
import io.mfserve.solver.FitDivergedException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collects plain factors sent in chunks (ImportFactors) into a served model: user rows, then
 * item rows, each side named by int64 ids or by keys, optional biases, optional seen pairs.
 * Every row's memory is reserved against the budget before it is kept; a failure releases all
 * of it. Not thread-safe: one per call.
 */
public final class FactorImport implements AutoCloseable {
  private final int k;
  private final boolean biases;
  private final MemoryBudget.Reservation reservation;
  private final Side users = new Side("user");
  private final Side items = new Side("item");
  private final List<long[]> seenPairs = new ArrayList<>();
  private long seenCount;
  private boolean done;

  /** One side's rows as they arrive. */
  private final class Side {
    final String name;
    IdForm form;
    IdIndex.LongBuilder ids;
    IdIndex.StringBuilder keys;
    float[] factors = new float[0];
    float[] bias = new float[0];
    int rows;

    Side(String name) {
      this.name = name;
    }

    int size() {
      return rows;
    }

    void add(long[] idList, String[] keyList, float[] values, float[] b, String field) {
      int n = idList != null ? idList.length : keyList.length;
      if (values.length != (long) n * k) {
        throw new InvalidRequestException(field, "has " + values.length + " values for " + n
            + " " + name + "s of " + k + " factors; give rows × num_factors");
      }
      if (biases && b.length != n) {
        throw new InvalidRequestException(name + "_biases", "has " + b.length + " biases for "
            + n + " " + name + "s; a model with biases needs one per row");
      }
      if (!biases && b.length != 0) {
        throw new InvalidRequestException(name + "_biases", "are given but the header says"
            + " has_biases is false");
      }
      IdForm f = idList != null ? IdForm.INT64 : IdForm.STRING;
      if (form == null) {
        form = f;
        if (f == IdForm.INT64) {
          ids = IdIndex.longBuilder();
        } else {
          keys = IdIndex.stringBuilder();
        }
      } else if (form != f) {
        throw new InvalidRequestException(name + "_ids", "mix int64 ids and keys; name every "
            + name + " one way");
      }
      reservation.grow((long) n * (k + 1) * Float.BYTES * 2 + (long) n * 48,
          "importing " + name + " factors");
      for (int j = 0; j < n; j++) {
        int p = f == IdForm.INT64 ? ids.intern(idList[j]) : keys.intern(keyList[j]);
        if (p != rows + j) {
          throw new InvalidRequestException(name + (f == IdForm.INT64 ? "_ids" : "_keys"),
              "repeats " + name + " " + (f == IdForm.INT64 ? Long.toString(idList[j])
                  : "'" + keyList[j] + "'") + "; give each row once");
        }
      }
      if (factors.length < (rows + n) * k) {
        factors = Arrays.copyOf(factors, Math.max((rows + n) * k, factors.length * 2));
      }
      System.arraycopy(values, 0, factors, rows * k, n * k);
      if (biases) {
        if (bias.length < rows + n) {
          bias = Arrays.copyOf(bias, Math.max(rows + n, bias.length * 2));
        }
        System.arraycopy(b, 0, bias, rows, n);
      }
      rows += n;
    }

    IdIndex index() {
      if (form == null) {
        return IdIndex.positions(0);
      }
      return form == IdForm.INT64 ? ids.build() : keys.build();
    }
  }

  /**
   * Starts an import of rank {@code k}.
   *
   * @throws InvalidRequestException for a rank outside [1, 1024]
   */
  public FactorImport(int k, boolean biases, MemoryBudget.Reservation reservation) {
    if (k < 1 || k > 1024) {
      throw new InvalidRequestException("header.num_factors", "is " + k + "; it must be in"
          + " [1, 1024]");
    }
    this.k = k;
    this.biases = biases;
    this.reservation = reservation;
  }

  /** Adds user rows (ids or keys, one of them null), k values each, and their biases. */
  public void addUsers(long[] ids, String[] keys, float[] values, float[] b) {
    if (items.size() > 0) {
      throw new InvalidRequestException("rows.user_factors", "arrive after item rows; send"
          + " every user row first, as GetFactors does");
    }
    users.add(ids, keys, values, b, "rows.user_factors");
  }

  /** Adds item rows. */
  public void addItems(long[] ids, String[] keys, float[] values, float[] b) {
    items.add(ids, keys, values, b, "rows.item_factors");
  }

  /** Adds (user, item) pairs seen in training, by the ids or keys of the imported rows. */
  public void addSeen(long[] userIds, String[] userKeys, long[] itemIds, String[] itemKeys) {
    int n = userIds != null ? userIds.length : userKeys.length;
    int m = itemIds != null ? itemIds.length : itemKeys.length;
    if (n != m) {
      throw new InvalidRequestException("seen", "names " + n + " users and " + m + " items;"
          + " give one item per user");
    }
    reservation.grow(n * 24L, "importing seen entries");
    IdIndex u = users.index();
    IdIndex i = items.index();
    long[] pairs = new long[n];
    for (int j = 0; j < n; j++) {
      int up = userIds != null ? u.indexOf(userIds[j]) : u.indexOf(userKeys[j]);
      int ip = itemIds != null ? i.indexOf(itemIds[j]) : i.indexOf(itemKeys[j]);
      if (up < 0 || ip < 0) {
        throw new InvalidRequestException("seen", "entry " + (seenCount + j) + " names a "
            + (up < 0 ? "user" : "item") + " that no imported row has; send the rows first");
      }
      pairs[j] = ((long) up << 32) | ip;
    }
    seenPairs.add(pairs);
    seenCount += n;
  }

  /**
   * Returns the model's parts once every row has arrived.
   *
   * @throws InvalidRequestException if a side is empty or a number is not finite
   */
  public Parts finish(double globalMean) {
    if (users.size() == 0 || items.size() == 0) {
      throw new InvalidRequestException(users.size() == 0 ? "rows.user_factors"
          : "rows.item_factors", "has no rows; a model needs users and items");
    }
    int nu = users.size();
    int ni = items.size();
    FactorModel model;
    try {
      model = new FactorModel(nu, ni, k, Arrays.copyOf(users.factors, nu * k),
          Arrays.copyOf(items.factors, ni * k), biases ? new FactorModel.Biases(globalMean,
              Arrays.copyOf(users.bias, nu), Arrays.copyOf(items.bias, ni)) : null, List.of());
    } catch (FitDivergedException e) {
      throw new InvalidRequestException("rows", "hold a number that is not finite; factors,"
          + " biases and the global mean must be finite");
    }
    users.factors = null;
    items.factors = null;
    long[] all = new long[(int) seenCount];
    int at = 0;
    for (long[] p : seenPairs) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    Arrays.sort(all);
    int[] ptr = new int[nu + 1];
    int[] cols = new int[all.length];
    int kept = 0;
    for (int j = 0; j < all.length; j++) {
      if (j > 0 && all[j] == all[j - 1]) {
        continue;
      }
      ptr[(int) (all[j] >>> 32) + 1]++;
      cols[kept++] = (int) all[j];
    }
    for (int u = 0; u < nu; u++) {
      ptr[u + 1] += ptr[u];
    }
    SeenItems seen = SeenItems.of(ptr, Arrays.copyOf(cols, kept), nu, ni);
    return new Parts(model, users.index(), items.index(), seen);
  }

  /**
   * The assembled parts.
   *
   * @param factors the factors and biases
   * @param users user ids
   * @param items item ids
   * @param seen seen items
   */
  public record Parts(FactorModel factors, IdIndex users, IdIndex items, SeenItems seen) { }

  /** Hands the reservation to the model being made; {@link #close} then releases nothing. */
  public MemoryBudget.Reservation handOver() {
    done = true;
    return reservation;
  }

  /** Releases the reservation unless it was handed over. */
  @Override
  public void close() {
    if (!done) {
      reservation.close();
    }
  }
}
