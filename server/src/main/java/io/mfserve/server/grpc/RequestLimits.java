package io.mfserve.server.grpc;

import io.mfserve.proto.v1.DeleteAliasRequest;
import io.mfserve.proto.v1.DeleteMatrixRequest;
import io.mfserve.proto.v1.DeleteModelRequest;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.ExplainRequest;
import io.mfserve.proto.v1.ExportModelRequest;
import io.mfserve.proto.v1.FitRequest;
import io.mfserve.proto.v1.FoldInRequest;
import io.mfserve.proto.v1.GetAliasRequest;
import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetModelRequest;
import io.mfserve.proto.v1.GetTopicsRequest;
import io.mfserve.proto.v1.ImportFactorsHeader;
import io.mfserve.proto.v1.ImportFactorsRequest;
import io.mfserve.proto.v1.ImportModelRequest;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.PredictRequest;
import io.mfserve.proto.v1.PredictRowRequest;
import io.mfserve.proto.v1.RecommendBatchRequest;
import io.mfserve.proto.v1.RecommendRequest;
import io.mfserve.proto.v1.SetAliasRequest;
import io.mfserve.proto.v1.SimilarItemsRequest;
import io.mfserve.proto.v1.SimilarUsersRequest;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixRequest;
import io.mfserve.proto.v1.UserHistory;
import io.mfserve.server.model.store.Limits;
import io.mfserve.server.model.store.Limits.Limit;
import java.util.List;
import java.util.Map;

/**
 * Checks one request message of {@code mfserve.v1.MatrixFactorization} against the server's
 * {@link Limits} before the service sees it: counts of ids, entries and results, lengths of
 * names and keys, the rank. Only what a message says about itself is checked here, in
 * O(message) time with no allocation; what needs the data (distinct rows of a sparse matrix,
 * models held) is checked where that is known ({@code MatrixAccumulator}, {@code ModelStore}).
 *
 * <p>One instance per call: it keeps the running totals of a client stream (entries of an
 * upload, user and item rows of an import). Not thread-safe; gRPC delivers a call's messages
 * one at a time.
 */
final class RequestLimits {
  private final Limits limits;
  private long streamEntries;
  private long streamRows;
  private long streamUsers;
  private long streamItems;

  RequestLimits(Limits limits) {
    this.limits = limits;
  }

  /**
   * Checks {@code message}; messages of other types pass.
   *
   * @throws io.mfserve.server.model.errors.LimitExceededException for the first limit it is
   *     over
   */
  void check(Object message) {
    // The server binds Fit, FitWithProgress and UploadMatrix with marshallers of its own
    // (MatrixFactorizationService#definition): their messages arrive as FitMessage and
    // UploadChunk, never as the generated types.
    if (message instanceof FitMessage m) {
      fit(m.request(), m.field());
      if (m.matrix() != null) {
        // A decoded matrix has ids and values only, one of each per entry.
        limits.check(Limit.REQUEST_ENTRIES, m.field() + "matrix.sparse.values",
            m.matrix().values().length);
      }
    } else if (message instanceof UploadChunk c) {
      if (c.request() != null) {
        upload(c.request());
      } else {
        // A decoded chunk has ids and values only, one of each per entry.
        limits.check(Limit.REQUEST_ENTRIES, "chunk.sparse.values", c.decodedEntries());
        uploadEntries(c.decodedEntries());
      }
    } else if (message instanceof PredictRequest r) {
      name("model_id", r.getModelId());
      ids("user_ids, user_keys, item_ids, item_keys", r.getUserIdsCount()
          + r.getUserKeysCount() + r.getItemIdsCount() + r.getItemKeysCount());
      keys("user_keys", r.getUserKeysList());
      keys("item_keys", r.getItemKeysList());
    } else if (message instanceof RecommendRequest r) {
      name("model_id", r.getModelId());
      key("user_key", r.getUserKey());
      results("k", r.getK(), r.getOffset());
      ids("user_history, allowed and denied items", historyIds(r.getUserHistory())
          + r.getAllowedItemIdsCount() + r.getAllowedItemKeysCount()
          + r.getDeniedItemIdsCount() + r.getDeniedItemKeysCount());
      history("user_history", r.getUserHistory());
      keys("allowed_item_keys", r.getAllowedItemKeysList());
      keys("denied_item_keys", r.getDeniedItemKeysList());
    } else if (message instanceof RecommendBatchRequest r) {
      name("model_id", r.getModelId());
      results("k", r.getK(), 0);
      ids("user_ids, user_keys, allowed and denied items", r.getUserIdsCount()
          + r.getUserKeysCount() + r.getAllowedItemIdsCount() + r.getAllowedItemKeysCount()
          + r.getDeniedItemIdsCount() + r.getDeniedItemKeysCount());
      keys("user_keys", r.getUserKeysList());
      keys("allowed_item_keys", r.getAllowedItemKeysList());
      keys("denied_item_keys", r.getDeniedItemKeysList());
    } else if (message instanceof SimilarItemsRequest r) {
      name("model_id", r.getModelId());
      key("item_key", r.getItemKey());
      results("k", r.getK(), 0);
    } else if (message instanceof SimilarUsersRequest r) {
      name("model_id", r.getModelId());
      key("user_key", r.getUserKey());
      results("k", r.getK(), 0);
    } else if (message instanceof ExplainRequest r) {
      name("model_id", r.getModelId());
      key("user_key", r.getUserKey());
      key("item_key", r.getItemKey());
      results("k", r.getK(), 0);
    } else if (message instanceof PredictRowRequest r) {
      name("model_id", r.getModelId());
      key("user_key", r.getUserKey());
      ids("user_history", historyIds(r.getUserHistory()));
      history("user_history", r.getUserHistory());
    } else if (message instanceof FoldInRequest r) {
      name("model_id", r.getModelId());
      ids("user_history", historyIds(r.getUserHistory()));
      history("user_history", r.getUserHistory());
    } else if (message instanceof GetTopicsRequest r) {
      name("model_id", r.getModelId());
      results("num_terms", r.getNumTerms(), 0);
      ids("topics", r.getTopicsCount());
    } else if (message instanceof GetModelRequest r) {
      name("model_id", r.getModelId());
    } else if (message instanceof DeleteModelRequest r) {
      name("model_id", r.getModelId());
    } else if (message instanceof GetFactorsRequest r) {
      name("model_id", r.getModelId());
    } else if (message instanceof ExportModelRequest r) {
      name("model_id", r.getModelId());
    } else if (message instanceof DeleteMatrixRequest r) {
      name("matrix_id", r.getMatrixId());
    } else if (message instanceof SetAliasRequest r) {
      name("alias", r.getAlias());
      name("model_id", r.getModelId());
      name("expected_model_id", r.getExpectedModelId());
    } else if (message instanceof GetAliasRequest r) {
      name("alias", r.getAlias());
    } else if (message instanceof DeleteAliasRequest r) {
      name("alias", r.getAlias());
      name("expected_model_id", r.getExpectedModelId());
    } else if (message instanceof ImportModelRequest r) {
      name("model_id", r.getModelId());
    } else if (message instanceof ImportFactorsRequest r) {
      importFactors(r);
    }
  }

  private void fit(FitRequest r, String p) {
    name(p + "solver", r.getSolver());
    name(p + "model_id", r.getModelId());
    name(p + "matrix_id", r.getMatrixId());
    name(p + "warm_start_model_id", r.getWarmStartModelId());
    if (r.hasNumFactors()) {
      limits.check(Limit.FACTORS, p + "num_factors", r.getNumFactors());
    }
    params(p + "params", r.getParamsMap());
    if (r.hasMatrix()) {
      matrix(p + "matrix", r.getMatrix());
    }
  }

  /** One chunk, and the upload's running totals: entries, and rows of a dense matrix. */
  private void upload(UploadMatrixRequest r) {
    uploadEntries(matrix("chunk", r.getChunk()));
    if (r.getChunk().hasDense()) {
      streamRows += Math.max(0, r.getChunk().getDense().getRows());
      limits.check(Limit.ROWS, "chunk.dense.rows (all chunks so far)", streamRows);
    }
  }

  /** Adds a chunk's entries to the upload's running total and checks it. */
  private void uploadEntries(long entries) {
    streamEntries += entries;
    limits.check(Limit.UPLOAD_ENTRIES, "chunk (all chunks so far)", streamEntries);
  }

  /** Checks an inline matrix or one chunk; returns its entries. */
  private long matrix(String f, Matrix m) {
    if (m.hasDense()) {
      DenseMatrix d = m.getDense();
      limits.check(Limit.ROWS, f + ".dense.rows", d.getRows());
      limits.check(Limit.COLS, f + ".dense.cols", d.getCols());
      limits.check(Limit.REQUEST_ENTRIES, f + ".dense.values", d.getValuesCount());
      return d.getValuesCount();
    }
    if (m.hasSparse()) {
      SparseMatrix s = m.getSparse();
      // A malformed chunk may have lists of different lengths: the longest is what it holds.
      long n = Math.max(s.getValuesCount(), Math.max(s.getRowIdsCount() + s.getRowKeysCount(),
          s.getColIdsCount() + s.getColKeysCount()));
      limits.check(Limit.REQUEST_ENTRIES, f + ".sparse.values", n);
      keys(f + ".sparse.row_keys", s.getRowKeysList());
      keys(f + ".sparse.col_keys", s.getColKeysList());
      return n;
    }
    return 0;
  }

  private void importFactors(ImportFactorsRequest r) {
    if (r.hasHeader()) {
      ImportFactorsHeader h = r.getHeader();
      name("header.model_id", h.getModelId());
      name("header.fold_in_solver", h.getFoldInSolver());
      limits.check(Limit.FACTORS, "header.num_factors", h.getNumFactors());
      params("header.params", h.getParamsMap());
    }
    if (r.hasRows()) {
      var rows = r.getRows();
      long users = Math.max(rows.getUserIdsCount() + rows.getUserKeysCount(),
          Math.max(0, rows.getUserFactors().getRows()));
      long items = Math.max(rows.getItemIdsCount() + rows.getItemKeysCount(),
          Math.max(0, rows.getItemFactors().getRows()));
      limits.check(Limit.REQUEST_ENTRIES, "rows (factor values)",
          (long) rows.getUserFactors().getValuesCount() + rows.getItemFactors().getValuesCount());
      streamUsers += users;
      streamItems += items;
      limits.check(Limit.ROWS, "rows.user_ids (all messages so far)", streamUsers);
      limits.check(Limit.COLS, "rows.item_ids (all messages so far)", streamItems);
      keys("rows.user_keys", rows.getUserKeysList());
      keys("rows.item_keys", rows.getItemKeysList());
    }
    if (r.hasSeen()) {
      SparseMatrix s = r.getSeen();
      long n = Math.max(s.getRowIdsCount() + s.getRowKeysCount(),
          s.getColIdsCount() + s.getColKeysCount());
      limits.check(Limit.REQUEST_ENTRIES, "seen", n);
      streamEntries += n;
      limits.check(Limit.UPLOAD_ENTRIES, "seen (all messages so far)", streamEntries);
      keys("seen.row_keys", s.getRowKeysList());
      keys("seen.col_keys", s.getColKeysList());
    }
  }

  private static long historyIds(UserHistory h) {
    return Math.max(h.getItemIdsCount() + h.getItemKeysCount(), h.getValuesCount());
  }

  private void history(String f, UserHistory h) {
    keys(f + ".item_keys", h.getItemKeysList());
  }

  private void results(String f, int k, int offset) {
    limits.check(Limit.K, f, k);
    if (offset > 0) {
      limits.check(Limit.K, "k + offset", (long) Math.max(k, 0) + offset);
    }
  }

  private void ids(String f, long n) {
    limits.check(Limit.IDS, f, n);
  }

  private void params(String f, Map<String, String> params) {
    limits.check(Limit.PARAMS, f, params.size());
    for (Map.Entry<String, String> e : params.entrySet()) {
      limits.check(Limit.KEY_LENGTH, f + " name", e.getKey().length());
      limits.check(Limit.KEY_LENGTH, f + "." + abbreviate(e.getKey()), e.getValue().length());
    }
  }

  private void name(String f, String value) {
    limits.check(Limit.NAME_LENGTH, f, value.length());
  }

  private void key(String f, String value) {
    limits.check(Limit.KEY_LENGTH, f, value.length());
  }

  private void keys(String f, List<String> keys) {
    long max = limits.get(Limit.KEY_LENGTH);
    for (int i = 0; i < keys.size(); i++) {
      if (keys.get(i).length() > max) {
        limits.check(Limit.KEY_LENGTH, f + "[" + i + "]", keys.get(i).length());
      }
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "…";
  }
}
