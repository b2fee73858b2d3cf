package io.mfserve.server.model.ids;

/** How one side of a matrix or model names its rows: by int64 id or by string key. */
public enum IdForm {
  /** int64 ids; a dense matrix's ids are its positions 0..n-1. */
  INT64,
  /** String keys. */
  STRING
}
