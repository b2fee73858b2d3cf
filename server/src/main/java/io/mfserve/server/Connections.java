package io.mfserve.server;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How the server keeps and recycles its HTTP/2 connections, so that balancers can spread them.
 *
 * <p>A gRPC client keeps one long-lived connection per server and multiplexes every call on it,
 * so a Kubernetes Service (kube-proxy balances connections, not calls) or an L4 balancer never
 * moves a client to the pods added by a scale-up. A maximum connection age makes the server
 * send GOAWAY after that long (grpc-java adds ±10% jitter, so replicas do not all reconnect
 * at once); the client opens a new connection, which the balancer places afresh, and calls in
 * flight on the old one finish within the grace. Keepalive pings find dead peers (a node gone,
 * a client that vanished) and keep idle connections alive through NATs and conntrack tables.
 *
 * @param keepAliveTime how long a connection may be idle before the server pings it; null: never
 * @param keepAliveTimeout how long the server waits for the ping's ack before it closes the
 *     connection
 * @param maxConnectionAge the age (±10% jitter) after which the server sends GOAWAY; null: never
 * @param maxConnectionAgeGrace how long calls in flight at GOAWAY may run on before the
 *     connection is closed; null: as long as they take
 */
public record Connections(Duration keepAliveTime, Duration keepAliveTimeout,
    Duration maxConnectionAge, Duration maxConnectionAgeGrace) {

  /**
   * The shortest interval at which clients may ping (gRPC's default client keepalive is off;
   * clients that enable it should use 30 s or more); pings are allowed without calls in flight,
   * so that a client's idle connection also stays up.
   */
  public static final Duration PERMIT_KEEPALIVE_TIME = Duration.ofSeconds(30);

  /**
   * Defaults for a Kubernetes Service: ping after 60 s idle (well under the idle timeouts of
   * cloud load balancers, 350 s on AWS NLB, 4 min on Azure LB, and of conntrack) and give up
   * after 20 s without an ack (gRPC's own default); recycle connections every 5 min, so a new
   * pod gets its share of clients within minutes of a scale-up; and give in-flight calls 10
   * minutes at GOAWAY, as long as mfctl's longest deadline (600 s, for fits), so that a long
   * fit is never cut off by the recycling.
   */
  public static Connections defaults() {
    return new Connections(Duration.ofSeconds(60), Duration.ofSeconds(20),
        Duration.ofMinutes(5), Duration.ofMinutes(10));
  }

  /** Sets these on {@code builder} and returns it. */
  public NettyServerBuilder applyTo(NettyServerBuilder builder) {
    builder.permitKeepAliveTime(PERMIT_KEEPALIVE_TIME.toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveWithoutCalls(true)
        .keepAliveTimeout(keepAliveTimeout.toMillis(), TimeUnit.MILLISECONDS);
    if (keepAliveTime != null) {
      builder.keepAliveTime(keepAliveTime.toMillis(), TimeUnit.MILLISECONDS);
    } else {
      builder.keepAliveTime(Long.MAX_VALUE, TimeUnit.NANOSECONDS); // grpc: disabled
    }
    if (maxConnectionAge != null) {
      builder.maxConnectionAge(maxConnectionAge.toMillis(), TimeUnit.MILLISECONDS);
    }
    if (maxConnectionAgeGrace != null) {
      builder.maxConnectionAgeGrace(maxConnectionAgeGrace.toMillis(), TimeUnit.MILLISECONDS);
    }
    return builder;
  }
}
