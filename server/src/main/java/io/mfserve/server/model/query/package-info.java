/**
 * Queries answered from a trained model: predictions, top-k recommendation and similarity
 * (exact scans with per-block bounds), rows of scores, fold-in of new users, and topics.
 */
package io.mfserve.server.model.query;
