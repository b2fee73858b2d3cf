package io.mfserve.client;

import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import java.io.File;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Channels to a secured mfserve server: TLS, mutual TLS, and bearer tokens.
 *
 * <pre>{@code
 * ManagedChannel channel = MfChannels.open("mfserve.example:443",
 *     MfChannels.tls(new File("ca.pem"), new File("client.pem"), new File("client-key.pem")));
 * MfClient client = new MfClient(MfChannels.withToken(channel, System.getenv("MFSERVE_TOKEN")));
 * }</pre>
 *
 * <p>The caller owns the {@link ManagedChannel} and shuts it down; {@link #withToken} wraps a
 * channel without taking it over. {@link MfClient} and {@link MatrixFactorization} take any
 * {@link Channel}, so their existing constructors work unchanged with these.
 */
public final class MfChannels {
  private MfChannels() {
  }

  /**
   * TLS credentials that trust the JVM's default CAs.
   *
   * @return credentials for {@link #open}
   */
  public static ChannelCredentials tls() {
    return TlsChannelCredentials.create();
  }

  /**
   * TLS or mutual TLS credentials from PEM files.
   *
   * @param ca CA certificates the server's certificate must chain to; {@code null} for the JVM's
   *     default CAs
   * @param cert this client's certificate chain, for mutual TLS; {@code null} for none
   * @param key the private key of {@code cert} (PKCS#8 PEM); {@code null} when {@code cert} is
   * @return credentials for {@link #open}
   * @throws IOException if a file cannot be read or parsed
   * @throws IllegalArgumentException if only one of {@code cert} and {@code key} is given
   */
  public static ChannelCredentials tls(File ca, File cert, File key) throws IOException {
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("a client certificate needs its key, and a key its"
          + " certificate");
    }
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    if (ca != null) {
      b.trustManager(ca);
    }
    if (cert != null) {
      b.keyManager(cert, key);
    }
    return b.build();
  }

  /** Plaintext credentials, for a server without TLS. */
  public static ChannelCredentials plaintext() {
    return InsecureChannelCredentials.create();
  }

  /**
   * Opens a channel to {@code target} ({@code host:port}, or any gRPC target URI).
   *
   * @param target the server
   * @param credentials from {@link #tls}, {@link #tls(File, File, File)} or {@link #plaintext}
   * @return a channel the caller shuts down
   */
  public static ManagedChannel open(String target, ChannelCredentials credentials) {
    return Grpc.newChannelBuilder(target, credentials).build();
  }

  /**
   * Call credentials that send {@code authorization: Bearer <token>} with every call.
   *
   * <p>They are sent over plaintext channels as well as TLS ones (a token on a plaintext
   * connection can be read by anyone on the path: use TLS outside a trusted network).
   *
   * @param token the token, as given to you (not its hash)
   * @return credentials for {@code CallOptions.withCallCredentials} or {@link #withToken}
   */
  public static CallCredentials bearerToken(String token) {
    Objects.requireNonNull(token, "token");
    if (token.isBlank()) {
      throw new IllegalArgumentException("the token is empty");
    }
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + token.strip());
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(RequestInfo info, Executor appExecutor,
          MetadataApplier applier) {
        applier.apply(headers);
      }

      @Override
      public String toString() {
        return "BearerToken(****)";
      }
    };
  }

  /**
   * Wraps {@code channel} so that every call carries {@code token} as a bearer token.
   *
   * @param channel the channel; still owned (and shut down) by the caller
   * @param token the token; {@code null} or blank returns {@code channel} unchanged
   * @return a channel for {@link MfClient} or {@link MatrixFactorization}
   */
  public static Channel withToken(Channel channel, String token) {
    if (token == null || token.isBlank()) {
      return channel;
    }
    return ClientInterceptors.intercept(channel, tokenInterceptor(token));
  }

  /**
   * An interceptor that attaches {@link #bearerToken} credentials to every call, for
   * {@code ManagedChannelBuilder.intercept} when you build channels yourself.
   *
   * @param token the token, as given to you (not its hash)
   * @return the interceptor
   */
  public static ClientInterceptor tokenInterceptor(String token) {
    CallCredentials credentials = bearerToken(token);
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method,
          CallOptions options, Channel next) {
        return next.newCall(method, options.withCallCredentials(credentials));
      }
    };
  }

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Whether {@code status} says the server refused this client's token or role. */
  public static boolean isAuthFailure(Status status) {
    return status.getCode() == Status.Code.UNAUTHENTICATED
        || status.getCode() == Status.Code.PERMISSION_DENIED;
  }
}
