package io.mfserve.server.model.query;

import io.mfserve.server.model.errors.InvalidRequestException;
import io.mfserve.server.model.store.ServedModel;
import io.mfserve.solver.FactorModel;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's factors read as topics, as gensim's {@code show_topics} reads an NMF or LSI model:
 * factor t is a topic, described by the items (terms, for a document × term matrix) with the
 * largest entries in column t of the item factors, heaviest first.
 *
 * <p>A term's weight is its share of the topic, {@code h_jt / Σ_j h_jt}, when the column is
 * non-negative with a positive sum (always, for an NMF model with a non-zero topic): NMF
 * leaves the scale between W and H free, so only the shares mean something, and they read as
 * gensim's normalised topic-term probabilities. A column with a negative entry (ALS, SGD) is
 * ranked by its raw entries, which are returned as they are. Ties go to the lower item position,
 * so the result never depends on thread timing.
 *
 * <p>Stateless; reads an immutable model, so any number of threads may call it at once. Costs
 * one pass over the item factors per topic asked for, O(items · log n) each.
 */
public final class Topics {
  /** The number of terms per topic when a request gives none. */
  public static final int DEFAULT_TERMS = 10;
  /** The most (topic, term) pairs one request may ask for: keeps a reply within 4 MiB. */
  public static final int MAX_PAIRS = 100_000;

  private Topics() { }

  /**
   * One topic: the factor's index and its heaviest terms.
   *
   * @param index the factor's 0-based index
   * @param terms the terms, heaviest first, with their weights
   */
  public record Topic(int index, Ranked terms) { }

  /**
   * Describes the topics of a model.
   *
   * @param numTerms terms per topic; 0 means {@link #DEFAULT_TERMS}, more than the model has
   *     returns them all
   * @param topics the factor indices to describe, in the order to return them; empty for all
   * @throws InvalidRequestException naming {@code num_terms} if it is negative or the request
   *     would return more than {@link #MAX_PAIRS} terms, or {@code topics[i]} for an index
   *     outside [0, num_factors)
   */
  public static List<Topic> of(ServedModel model, int numTerms, List<Integer> topics) {
    FactorModel f = model.factors();
    int k = f.numFactors();
    if (numTerms < 0) {
      throw new InvalidRequestException("num_terms", "is " + numTerms + "; it must be at least 0"
          + " (0 means " + DEFAULT_TERMS + ")");
    }
    for (int n = 0; n < topics.size(); n++) {
      int t = topics.get(n);
      if (t < 0 || t >= k) {
        throw new InvalidRequestException("topics[" + n + "]", "is " + t + "; the model has " + k
            + " topics, numbered 0 to " + (k - 1));
      }
    }
    int want = Math.min(numTerms == 0 ? DEFAULT_TERMS : numTerms, f.numItems());
    int count = topics.isEmpty() ? k : topics.size();
    if ((long) want * count > MAX_PAIRS) {
      throw new InvalidRequestException("num_terms", "asks for " + want + " terms of " + count
          + " topics; at most " + MAX_PAIRS + " terms in all: ask for fewer terms or topics");
    }
    List<Topic> out = new ArrayList<>(count);
    TopK heap = new TopK(want);
    for (int n = 0; n < count; n++) {
      int t = topics.isEmpty() ? n : topics.get(n);
      out.add(new Topic(t, topTerms(model, t, want, heap)));
    }
    return out;
  }

  private static Ranked topTerms(ServedModel model, int t, int want, TopK heap) {
    FactorModel f = model.factors();
    int items = f.numItems();
    double sum = 0;
    boolean nonNegative = true;
    heap.reset(want);
    for (int i = 0; i < items; i++) {
      float v = f.itemFactor(i, t);
      nonNegative &= v >= 0;
      sum += v;
      heap.offer(i, v);
    }
    int[] positions = new int[heap.size()];
    float[] scores = new float[positions.length];
    heap.drainBestFirst(positions, scores);
    if (nonNegative && sum > 0) {
      for (int n = 0; n < scores.length; n++) {
        scores[n] = (float) (scores[n] / sum);
      }
    }
    return new Ranked(model.items(), positions, scores);
  }
}
