package io.mfserve.server.grpc;

import io.mfserve.proto.v1.GetServerInfoResponse;
import io.mfserve.proto.v1.LimitInfo;
import io.mfserve.server.ServerConfig;
import io.mfserve.server.model.store.Limits;
import jakarta.inject.Inject;

/**
 * What GetServerInfo answers: the version and every limit with its flag, built once from the
 * config, so that what is shown is what is enforced.
 */
public final class ServerInfo {
  private final GetServerInfoResponse response;

  /** Describes a server started with {@code config}. */
  @Inject
  public ServerInfo(ServerConfig config) {
    String v = ServerInfo.class.getPackage().getImplementationVersion();
    GetServerInfoResponse.Builder b = GetServerInfoResponse.newBuilder()
        .setVersion(v == null ? "dev" : v)
        .addLimits(LimitInfo.newBuilder().setName("max_message_bytes")
            .setValue(config.maxInboundMessageBytes()).setFlag("--max-inbound-message-size")
            .setDescription("bytes of one request message; larger matrices go through"
                + " UploadMatrix (refused by gRPC itself: its message names no flag)")
            .setStatus("RESOURCE_EXHAUSTED"))
        .addLimits(LimitInfo.newBuilder().setName("memory_budget_bytes")
            .setValue(config.memoryBudgetBytes()).setFlag("--memory-budget")
            .setDescription("bytes held for models, uploaded matrices and fits together")
            .setStatus("RESOURCE_EXHAUSTED"));
    for (Limits.Limit l : Limits.Limit.values()) {
      b.addLimits(LimitInfo.newBuilder().setName(l.id()).setValue(config.limits().get(l))
          .setFlag(l.flag()).setDescription(l.description())
          .setStatus(l.invalidArgument() ? "INVALID_ARGUMENT" : "RESOURCE_EXHAUSTED"));
    }
    this.response = b.build();
  }

  /** Returns the description. */
  public GetServerInfoResponse describe() {
    return response;
  }
}
