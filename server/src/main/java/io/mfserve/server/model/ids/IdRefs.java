package io.mfserve.server.model.ids;

/**
 * Ids a request names on one side, in one of the two forms (the other array is empty).
 *
 * @param ids int64 ids
 * @param keys string keys
 * @param idsField the request field holding the ids, for messages
 * @param keysField the request field holding the keys, for messages
 */
public record IdRefs(long[] ids, String[] keys, String idsField, String keysField) {
  /** Returns how many ids are named. */
  public int size() {
    return Math.max(ids.length, keys.length);
  }
}
