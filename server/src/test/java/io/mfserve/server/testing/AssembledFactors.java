package io.mfserve.server.testing;

import io.mfserve.proto.v1.GetFactorsRequest;
import io.mfserve.proto.v1.GetFactorsResponse;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import io.mfserve.proto.v1.ModelInfo;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** A model's factors reassembled from a GetFactors stream by concatenating the chunks. */
public final class AssembledFactors {
  public final List<float[]> users = new ArrayList<>();
  public final List<float[]> items = new ArrayList<>();
  public final List<Long> userIds = new ArrayList<>();
  public final List<Long> itemIds = new ArrayList<>();
  public final List<String> userKeys = new ArrayList<>();
  public final List<String> itemKeys = new ArrayList<>();
  public final List<Float> userBiases = new ArrayList<>();
  public final List<Float> itemBiases = new ArrayList<>();
  public double globalBias;
  public ModelInfo info;
  public int chunks;

  /** Reads the whole stream. */
  public static AssembledFactors read(MatrixFactorizationGrpc.MatrixFactorizationBlockingStub stub,
      String modelId) {
    AssembledFactors f = new AssembledFactors();
    Iterator<GetFactorsResponse> it = stub.getFactors(GetFactorsRequest.newBuilder()
        .setModelId(modelId).build());
    while (it.hasNext()) {
      GetFactorsResponse r = it.next();
      if (f.chunks++ == 0) {
        f.info = r.getModel();
        f.globalBias = r.getGlobalBias();
      }
      rows(r.getUserFactors().getValuesList(), r.getUserFactors().getRows(),
          r.getUserFactors().getCols(), f.users);
      rows(r.getItemFactors().getValuesList(), r.getItemFactors().getRows(),
          r.getItemFactors().getCols(), f.items);
      f.userIds.addAll(r.getUserIdsList());
      f.itemIds.addAll(r.getItemIdsList());
      f.userKeys.addAll(r.getUserKeysList());
      f.itemKeys.addAll(r.getItemKeysList());
      f.userBiases.addAll(r.getUserBiasesList());
      f.itemBiases.addAll(r.getItemBiasesList());
    }
    return f;
  }

  private static void rows(List<Float> values, int rows, int cols, List<float[]> out) {
    for (int r = 0; r < rows; r++) {
      float[] row = new float[cols];
      for (int c = 0; c < cols; c++) {
        row[c] = values.get(r * cols + c);
      }
      out.add(row);
    }
  }

  /**
   * Returns U[u]·V[i] (+ biases when the model has them), with the server's arithmetic: a float
   * sum of float products in factor order, then added to the biases in double.
   */
  public double reconstruct(int u, int i) {
    float dot = 0;
    for (int f = 0; f < users.get(u).length; f++) {
      dot += users.get(u)[f] * items.get(i)[f];
    }
    if (userBiases.isEmpty()) {
      return dot;
    }
    return globalBias + userBiases.get(u) + itemBiases.get(i) + dot;
  }
}
