package io.mfserve.client.eval;

/**
 * What one fold held, independent of the settings evaluated on it.
 *
 * @param fold the fold's 1-based number
 * @param trainEntries entries in its training part (uploaded once, shared by every setting)
 * @param testEntries entries in its test part
 * @param coldTestPairs test pairs whose user or item is not in the training part (scored
 *     with the global mean for error metrics)
 * @param testUsers users with at least one relevant test item (ranking metrics)
 * @param coldTestUsers of those, users absent from the training part: they cannot be
 *     recommended to and are left out of the ranking metrics
 */
public record FoldInfo(int fold, long trainEntries, long testEntries, long coldTestPairs,
    long testUsers, long coldTestUsers) {}
