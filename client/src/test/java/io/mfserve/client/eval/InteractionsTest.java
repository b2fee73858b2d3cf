package io.mfserve.client.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mfserve.client.Ratings;
import io.mfserve.proto.v1.DenseMatrix;
import io.mfserve.proto.v1.Matrix;
import io.mfserve.proto.v1.SparseMatrix;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Dense numbering, dense input, concatenation and conversion back to a matrix. */
class InteractionsTest {
  @Test
  void of_sparse_numbersUsersAndItemsInOrderOfAppearance() {
    Interactions d = Interactions.of(new Ratings().add(7, 30, 1f).add(5, 30, 2f).add(7, 10, 3f)
        .toMatrix());

    assertEquals(3, d.size());
    assertEquals(2, d.numUsers());
    assertEquals(2, d.numItems());
    assertEquals(0, d.user(2));
    assertEquals(1, d.item(2));
    assertEquals(5, d.userId(1));
    assertEquals(1, d.itemIndex(10L));
    assertEquals(-1, d.itemIndex(99L));
  }

  @Test
  void of_dense_positionsAreIds() {
    Interactions d = Interactions.of(Matrix.newBuilder().setDense(DenseMatrix.newBuilder()
        .setRows(2).setCols(3).addAllValues(List.of(1f, 2f, 3f, 4f, 5f, 6f))).build());

    assertEquals(6, d.size());
    assertEquals(1, d.userId(d.user(4)));
    assertEquals(1, d.itemId(d.item(4)));
    assertEquals(5f, d.value(4));
  }

  @Test
  void toMatrix_selectedEntries_inTheDataIdForms() {
    Interactions d = Interactions.of(new Ratings().add("u", "a", 1f).add("v", "b", 2f)
        .toMatrix());

    SparseMatrix m = d.toMatrix(new int[] {1}).getSparse();

    assertEquals(List.of("v"), m.getRowKeysList());
    assertEquals(List.of("b"), m.getColKeysList());
    assertEquals(List.of(2f), m.getValuesList());
  }

  @Test
  void concat_sharesIndicesAcrossTheTwoParts() {
    Interactions train = Interactions.of(new Ratings().add(1, 10, 5f).toMatrix());
    Interactions test = Interactions.of(new Ratings().add(2, 10, 4f).add(1, 20, 3f)
        .toMatrix());

    Interactions both = Interactions.concat(train, test);

    assertEquals(3, both.size());
    assertEquals(both.item(0), both.item(1));
    assertEquals(both.user(0), both.user(2));
    assertEquals(3f, both.value(2));
  }

  @Test
  void concat_differentIdForms_isRejected() {
    Interactions ids = Interactions.of(new Ratings().add(1, 10, 5f).toMatrix());
    Interactions keys = Interactions.of(new Ratings().add("1", "10", 5f).toMatrix());

    assertThrows(IllegalArgumentException.class, () -> Interactions.concat(ids, keys));
  }
}
