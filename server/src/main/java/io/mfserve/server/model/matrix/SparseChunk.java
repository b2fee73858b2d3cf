package io.mfserve.server.model.matrix;

import io.mfserve.server.model.ids.IdForm;

/**
 * A run of sparse entries as a client sent them: entry n is (row n, column n, values[n]), each
 * side named either by int64 ids or by string keys (the other array of that side is null).
 *
 * @param rowIds row ids, or null when rowKeys are given
 * @param rowKeys row keys, or null when rowIds are given
 * @param colIds column ids, or null when colKeys are given
 * @param colKeys column keys, or null when colIds are given
 * @param values the values
 */
public record SparseChunk(long[] rowIds, String[] rowKeys, long[] colIds, String[] colKeys,
    float[] values) {

  /** Returns the form of the row side. */
  public IdForm rowForm() {
    return rowIds != null ? IdForm.INT64 : IdForm.STRING;
  }

  /** Returns the form of the column side. */
  public IdForm colForm() {
    return colIds != null ? IdForm.INT64 : IdForm.STRING;
  }
}
