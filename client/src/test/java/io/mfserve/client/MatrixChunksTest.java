package io.mfserve.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;
import io.mfserve.proto.v1.UploadMatrixRequest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MatrixChunksTest {
  /** Ids of every varint length, negative ones (10 bytes) and the extremes among them. */
  private static long id(Random random) {
    return switch (random.nextInt(6)) {
      case 0 -> random.nextInt(128);
      case 1 -> random.nextInt(1 << 20);
      case 2 -> random.nextLong();
      case 3 -> -1 - random.nextInt(1000);
      case 4 -> random.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE;
      default -> 0;
    };
  }

  private static SparseMatrix randomMatrix(Random random, int entries) {
    SparseMatrix.Builder b = SparseMatrix.newBuilder();
    for (int i = 0; i < entries; i++) {
      b.addRowIds(id(random)).addColIds(id(random)).addValues(
          random.nextInt(10) == 0 ? Float.NaN : (float) random.nextGaussian());
    }
    return b.build();
  }

  private static List<byte[]> wire(SparseMatrix m, int budget) {
    List<byte[]> out = new ArrayList<>();
    MatrixChunks.sparseWire(m, budget, UploadMatrixRequest.CHUNK_FIELD_NUMBER,
        Matrix.SPARSE_FIELD_NUMBER).forEachRemaining(out::add);
    return out;
  }

  private static List<byte[]> viaBuilders(SparseMatrix m, int budget) {
    List<byte[]> out = new ArrayList<>();
    Iterator<SparseMatrix> runs = MatrixChunks.sparse(m, budget);
    while (runs.hasNext()) {
      out.add(UploadMatrixRequest.newBuilder()
          .setChunk(Matrix.newBuilder().setSparse(runs.next())).build().toByteArray());
    }
    return out;
  }

  @Test
  void sparseWire_randomIdKeyedMatrices_sameRunsAndSameBytesAsTheBuilders() {
    Random random = new Random(11);
    for (int trial = 0; trial < 60; trial++) {
      SparseMatrix m = randomMatrix(random, random.nextInt(3) == 0 ? random.nextInt(3)
          : random.nextInt(5000));
      int budget = 1 + random.nextInt(trial % 3 == 0 ? 40 : 20_000);

      List<byte[]> wire = wire(m, budget);
      List<byte[]> expected = viaBuilders(m, budget);

      assertEquals(expected.size(), wire.size(), "trial " + trial);
      for (int c = 0; c < wire.size(); c++) {
        assertArrayEquals(expected.get(c), wire.get(c), "trial " + trial + ", chunk " + c);
      }
    }
  }

  @Test
  void sparseWire_runsConcatenateToTheOriginalAndKeepToTheBudget() throws Exception {
    SparseMatrix m = randomMatrix(new Random(5), 40_000);
    int budget = 64 * 1024;

    SparseMatrix.Builder joined = SparseMatrix.newBuilder();
    for (byte[] chunk : wire(m, budget)) {
      SparseMatrix run = UploadMatrixRequest.parseFrom(chunk).getChunk().getSparse();
      assertTrue(run.getSerializedSize() <= budget + 3 * 6, "run of " + run.getSerializedSize());
      joined.mergeFrom(run);
    }
    // NaN values compare by their bits here, which the wire keeps.
    assertEquals(m, joined.build());
  }

  @Test
  void sparseWire_emptyMatrix_oneEmptyChunkThatTheServerSees() throws Exception {
    List<byte[]> chunks = wire(SparseMatrix.getDefaultInstance(), 100);

    assertEquals(1, chunks.size());
    UploadMatrixRequest r = UploadMatrixRequest.parseFrom(chunks.get(0));
    assertTrue(r.hasChunk() && r.getChunk().hasSparse());
    assertEquals(0, r.getChunk().getSparse().getValuesCount());
  }

  @Test
  void idKeyed_keysOrListsOfDifferentLengths_no() {
    assertTrue(MatrixChunks.idKeyed(SparseMatrix.newBuilder().addRowIds(1).addColIds(2)
        .addValues(1f).build()));
    assertFalse(MatrixChunks.idKeyed(SparseMatrix.newBuilder().addRowKeys("a").addColIds(2)
        .addValues(1f).build()));
    assertFalse(MatrixChunks.idKeyed(SparseMatrix.newBuilder().addRowIds(1).addColIds(2)
        .build()));
    SparseMatrix keyed = SparseMatrix.newBuilder().addRowKeys("a").addColKeys("b")
        .addValues(1f).build();
    assertThrows(IllegalArgumentException.class, () -> MatrixChunks.sparseWire(keyed, 10));
  }
}
