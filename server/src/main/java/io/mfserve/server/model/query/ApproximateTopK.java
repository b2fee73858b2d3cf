package io.mfserve.server.model.query;

import io.mfserve.server.model.ann.AnnIndexes;
import io.mfserve.server.model.ann.AnnTarget;
import io.mfserve.server.model.ann.HnswIndex;
import io.mfserve.server.model.ann.RowVectors;
import io.mfserve.server.model.store.ServedModel;
import java.util.Arrays;
import org.apache.lucene.util.Bits;

/**
 * Top-k through a model's approximate index: the index proposes candidates, each is scored
 * exactly ({@link ItemScorer.Query#score} of {@link RowVectors#exactDot}, the same bits an exact
 * scan computes), and the best are kept. An answer can therefore miss an item of the exact
 * top k, never misstate a score or return an item the filters exclude.
 *
 * <p>Filters are applied inside the search (a row the filter rejects is walked through but
 * never collected), and the search collects at least k + offset rows. When that leaves the
 * answer short of what qualifies — a filter that rejects most rows, a search that visited more
 * rows than a scan would score — this returns null and the caller scans exactly: an answer
 * has k items whenever k items qualify. A short allowed list is scored directly from the
 * index's rows (exact, and faster than the column-blocked scan for scattered items).
 *
 * <p>Stateless; thread-safe.
 */
final class ApproximateTopK {
  /**
   * Below this share of the rows, an allowed list is scored directly rather than searched: a
   * filtered search then walks many rejected rows for each accepted one.
   */
  static final int SUBSET_DIVISOR = 16;

  private ApproximateTopK() { }

  /** The result count {@code --ann-ef-search} is set for: ef grows in proportion beyond it. */
  static final int EF_BASE_RESULTS = 10;
  /** The largest ef a search uses (the flag's own upper bound). */
  static final int MAX_EF = 10_000;

  /** Returns the ready index of {@code target} when the request may use it, else null. */
  static HnswIndex usable(ServedModel m, AnnTarget target, boolean exact) {
    return exact ? null : m.ann().get(target);
  }

  /** Returns the fewest candidates a search of {@code target} collects (ef). */
  static int efSearch(ServedModel m, AnnTarget target) {
    AnnIndexes.Status s = m.ann().status(target);
    return s == null ? 1 : s.efSearch();
  }

  /**
   * Ranks through the index, or returns null when the caller should scan.
   *
   * @param excluded ascending distinct positions never returned
   * @param allowed ascending distinct positions that alone qualify, or null for every row
   * @param want k + offset, at most the rows there are
   */
  static Ranked rank(ServedModel m, AnnTarget target, HnswIndex index, ItemScorer.Query q,
      int[] excluded, int[] allowed, int want, int offset) {
    RowVectors rows = index.rows();
    int n = rows.rows();
    long qualifying = allowed == null ? n - excluded.length
        : allowed.length - common(allowed, excluded);
    int need = (int) Math.min(want, qualifying);
    if (need <= 0) {
      return null;
    }
    ItemScorer.Scratch scratch = ItemScorer.Scratch.get();
    int[] candidates;
    if (allowed != null && allowed.length <= n / SUBSET_DIVISOR) {
      candidates = allowed;
    } else {
      int ef = ef(efSearch(m, target), want);
      Bits accept = excluded.length == 0 && allowed == null ? null
          : new Filter(n, allowed, excluded);
      candidates = index.search(q.vector, ef, accept, visitLimit(n, ef, index.maxConn()));
      if (candidates == null || candidates.length < need) {
        return null;
      }
      excluded = new int[0]; // the filter has applied them
    }
    TopK top = scratch.heap(want);
    int e = 0;
    boolean sorted = candidates == allowed;
    for (int r : candidates) {
      if (sorted) {
        while (e < excluded.length && excluded[e] < r) {
          e++;
        }
        if (e < excluded.length && excluded[e] == r) {
          continue;
        }
      }
      top.offer(r, q.score(r, rows.exactDot(q.vector, r)));
    }
    return ModelQueries.drain(top, offset, target == AnnTarget.SIMILAR_USERS ? m.users()
        : m.items());
  }

  /**
   * The beam of a search for {@code want} = k + offset results: {@code efSearch} is the beam
   * for a top 10, and a larger want gets a proportionally wider one (a graph's recall@k at a
   * fixed beam falls as k nears the beam), never less than want, at most {@link #MAX_EF}.
   */
  static int ef(int efSearch, int want) {
    long scaled = (long) efSearch * Math.max(EF_BASE_RESULTS, want) / EF_BASE_RESULTS;
    return (int) Math.min(MAX_EF, Math.max(scaled, want));
  }

  /**
   * The most rows a search may visit before a scan is the cheaper answer: a visit costs about
   * ten times a row of an exact scan (a random read and a scalar dot product against SIMD over
   * column blocks), so a sixteenth of the rows, and never fewer than a plain search needs.
   */
  static int visitLimit(int rows, int ef, int maxConn) {
    return (int) Math.max((long) rows / SUBSET_DIVISOR, 8L * ef * maxConn);
  }

  /** The number of values in both ascending arrays. */
  private static int common(int[] a, int[] b) {
    int i = 0;
    int j = 0;
    int n = 0;
    while (i < a.length && j < b.length) {
      if (a[i] < b[j]) {
        i++;
      } else if (a[i] > b[j]) {
        j++;
      } else {
        n++;
        i++;
        j++;
      }
    }
    return n;
  }

  /** Which rows a search may collect: allowed (or any) and not excluded. */
  private static final class Filter implements Bits {
    private final int length;
    private final int[] allowed;
    private final int[] excluded;

    Filter(int length, int[] allowed, int[] excluded) {
      this.length = length;
      this.allowed = allowed;
      this.excluded = excluded;
    }

    @Override
    public boolean get(int index) {
      return (allowed == null || Arrays.binarySearch(allowed, index) >= 0)
          && Arrays.binarySearch(excluded, index) < 0;
    }

    @Override
    public int length() {
      return length;
    }
  }
}
