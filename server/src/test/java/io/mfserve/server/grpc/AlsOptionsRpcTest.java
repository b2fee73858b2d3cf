package io.mfserve.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mfserve.proto.v1.AbsentEntries;
import io.mfserve.proto.v1.MatrixFactorizationGrpc.MatrixFactorizationBlockingStub;
import io.mfserve.proto.v1.ModelInfo;
import io.mfserve.server.testing.InProcessMfServer;
import io.mfserve.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ALS options through the service: implicit feedback, biases, early stopping on the
 * request's validation fraction, and bad values of the ALS-only parameters.
 */
class AlsOptionsRpcTest {
  @RegisterExtension
  final InProcessMfServer server = new InProcessMfServer();

  @Test
  void fit_implicitFeedback_trainsAndRecordsAbsentEntries() {
    MatrixFactorizationBlockingStub stub = server.start();

    ModelInfo info = stub.fit(Requests.fit("als", 2, Requests.sparseRatings(30, 20, 0.3, 1))
        .setAbsentEntries(AbsentEntries.ABSENT_ENTRIES_IMPLICIT).setMaxIterations(5)
        .putParams("alpha", "4").putParams("confidence", "log").build()).getModel();

    assertEquals(AbsentEntries.ABSENT_ENTRIES_IMPLICIT, info.getAbsentEntries());
    assertEquals(5, info.getIterations());
    assertEquals("4.0", info.getParamsMap().get("alpha"));
    assertFalse(info.getHasBiases());
  }

  @Test
  void fit_biasesAndEarlyStopping_modelHasBiasesAndStopsEarly() {
    MatrixFactorizationBlockingStub stub = server.start();

    // Random integers: nothing to learn, so a model without a penalty overfits at once.
    ModelInfo info = stub.fit(Requests.fit("als", 8, Requests.seedMatrix(40, 30, 2))
        .setRegularization(0).setMaxIterations(200).setValidationFraction(0.2)
        .putParams("biases", "true").putParams("early_stopping_rounds", "2").build())
        .getModel();

    assertTrue(info.getHasBiases());
    assertTrue(info.getIterations() < 200, "ran " + info.getIterations());
    assertEquals(info.getIterations(), info.getValidationRmseCount());
  }

  @Test
  void fit_negativeAlpha_invalidArgument() {
    MatrixFactorizationBlockingStub stub = server.start();

    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.fit(
        Requests.fit("als", 2, Requests.sparseRatings(10, 8, 0.5, 3))
            .setAbsentEntries(AbsentEntries.ABSENT_ENTRIES_IMPLICIT).putParams("alpha", "-0.5")
            .build()));

    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }
}
