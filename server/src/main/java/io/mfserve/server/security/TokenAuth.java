package io.mfserve.server.security;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.mfserve.proto.v1.MatrixFactorizationGrpc;
import java.util.Locale;
import java.util.Set;

/**
 * Checks the bearer token of every call it intercepts ({@code authorization: Bearer <token>})
 * against a {@link TokenFile}: no token or an unknown one is UNAUTHENTICATED; a {@code read}
 * token calling a method that changes state is PERMISSION_DENIED.
 *
 * <p>Methods of mfserve.v1 that change state need {@code write}: the set below is an allow-list of
 * the read-only ones, so a method added later needs {@code write} until it is named here. Other
 * services this interceptor is put in front of (reflection, when it is not left open) need only
 * {@code read}. The health service is never put behind it.
 */
public final class TokenAuth implements ServerInterceptor {
  /** The header the token travels in. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String PREFIX = "bearer ";

  /** mfserve.v1 methods a read token may call. */
  static final Set<String> READ_METHODS = Set.of("GetFactors", "Predict", "Recommend",
      "GetServerInfo", "GetModel", "ListModels", "ListSolvers", "RecommendBatch", "SimilarItems",
      "SimilarUsers", "PredictRow", "FoldIn", "GetTopics", "GetAlias", "ListAliases",
      "ExportModel", "Explain");

  private final TokenFile tokens;

  /** Checks calls against {@code tokens}. */
  public TokenAuth(TokenFile tokens) {
    this.tokens = tokens;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String header = headers.get(AUTHORIZATION);
    if (header == null || header.length() <= PREFIX.length()
        || !header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription(
          "this server needs a bearer token (authorization: Bearer TOKEN)"));
    }
    TokenFile.Role role = tokens.lookup(header.substring(PREFIX.length()).strip());
    if (role == null) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription("unknown token"));
    }
    if (role == TokenFile.Role.READ && needsWrite(call.getMethodDescriptor().getFullMethodName())) {
      return refuse(call, Status.PERMISSION_DENIED.withDescription(
          call.getMethodDescriptor().getBareMethodName() + " needs a write token; this one is"
              + " read-only"));
    }
    return next.startCall(call, headers);
  }

  static boolean needsWrite(String fullMethodName) {
    String service = MatrixFactorizationGrpc.SERVICE_NAME + "/";
    if (!fullMethodName.startsWith(service)) {
      return false;
    }
    return !READ_METHODS.contains(fullMethodName.substring(service.length()));
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() { };
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "TokenAuth(%d tokens)", tokens.size());
  }
}
