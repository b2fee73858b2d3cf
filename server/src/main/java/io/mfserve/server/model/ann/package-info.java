/**
 * Approximate top-k: HNSW graphs (Apache Lucene's {@code org.apache.lucene.util.hnsw}, no
 * index files) over a served model's item factors, for Recommend (maximum inner product with
 * the item bias folded in) and SimilarItems (cosine), and over its user factors for
 * SimilarUsers. An index only proposes candidates: the query layer scores them exactly, so an
 * approximate answer can miss an item but never misstates a score. Depends on the solver SPI
 * and Lucene only.
 */
package io.mfserve.server.model.ann;
