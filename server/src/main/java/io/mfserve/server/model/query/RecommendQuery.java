package io.mfserve.server.model.query;

import io.mfserve.server.model.ids.IdRefs;

/**
 * One Recommend request in domain terms.
 *
 * @param modelId the model
 * @param user the user by id or key (one of them), or null when {@code history} is given
 * @param history a user not in the model, folded in; null when {@code user} is given
 * @param k items wanted; 0 means {@link ModelQueries#DEFAULT_K}
 * @param offset best items to skip first, for paging
 * @param excludeSeen whether to leave out the user's items; null for the model's default
 * @param allowed if not empty, the only candidates
 * @param denied never returned
 * @param exact scan every item even where the model has an approximate index
 * @param unknownUser the answer for a {@code user} the model has never seen
 */
public record RecommendQuery(String modelId, IdRefs user, UserHistory history, int k,
    int offset, Boolean excludeSeen, IdRefs allowed, IdRefs denied, boolean exact,
    UnknownUserFallback unknownUser) {
  /** A query that may use the model's approximate index, popular items for unknown users. */
  public RecommendQuery(String modelId, IdRefs user, UserHistory history, int k, int offset,
      Boolean excludeSeen, IdRefs allowed, IdRefs denied) {
    this(modelId, user, history, k, offset, excludeSeen, allowed, denied, false,
        UnknownUserFallback.POPULAR);
  }

  /** A query with popular items for unknown users. */
  public RecommendQuery(String modelId, IdRefs user, UserHistory history, int k, int offset,
      Boolean excludeSeen, IdRefs allowed, IdRefs denied, boolean exact) {
    this(modelId, user, history, k, offset, excludeSeen, allowed, denied, exact,
        UnknownUserFallback.POPULAR);
  }
}
