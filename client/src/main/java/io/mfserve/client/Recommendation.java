package io.mfserve.client;

import io.mfserve.proto.v1.ScoredItem;

/**
 * One recommended item and its predicted score.
 *
 * <p>The item is named in the model's item id form: {@link #itemId()} for models trained with
 * int64 ids (or a dense matrix), {@link #itemKey()} for models trained with string keys.
 *
 * @param itemId the item's int64 id; 0 for models with string item keys
 * @param itemKey the item's key; empty for models with int64 item ids
 * @param score the predicted score, higher is better
 */
public record Recommendation(long itemId, String itemKey, float score) {
  /**
   * Creates a recommendation.
   *
   * @param itemId the item's int64 id
   * @param itemKey the item's key; null becomes empty
   * @param score the predicted score
   */
  public Recommendation {
    itemKey = itemKey == null ? "" : itemKey;
  }

  /**
   * Converts a wire message.
   *
   * @param item the scored item from a {@code RecommendResponse}
   * @return the recommendation
   */
  public static Recommendation of(ScoredItem item) {
    return new Recommendation(item.getItemId(), item.getItemKey(), item.getScore());
  }

  /**
   * The item as text: its key when it has one, otherwise its id.
   *
   * @return the item's name
   */
  public String item() {
    return itemKey.isEmpty() ? Long.toString(itemId) : itemKey;
  }
}
