package io.mfserve.client.cli;

import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The channels a load test spreads its calls over, each paired with the one thread that starts
 * its open-loop calls on schedule (a {@link Lane}).
 *
 * <p>Over the network ({@link #netty}) each channel is bound to one event loop of a group this
 * class owns, and that event loop is the lane's thread. A call started there is written by the
 * thread that will also read its response and run its callback; started from any other thread,
 * every call would first wake the event loop up (a system call on both sides and a context
 * switch), which on a machine shared with the server doubles the generator's CPU per call and
 * adds scheduling delay to the latencies it measures. Channels from any other factory
 * ({@link #over}: in-process ones in tests) share one scheduler thread.
 */
final class LoadChannels implements AutoCloseable {
  /**
   * A channel and the single thread that starts its open-loop calls.
   *
   * @param channel where the lane's calls go; closed with the lanes
   * @param executor runs the lane's schedule; single-threaded
   */
  record Lane(ManagedChannel channel, ScheduledExecutorService executor) { }

  /** Opens {@code count} channels to a target. */
  interface Opener {
    LoadChannels open(String target, int count);
  }

  private final List<Lane> lanes;
  /** Shuts the lanes' threads down once the channels are closed. */
  private final Runnable stopThreads;

  private LoadChannels(List<Lane> lanes, Runnable stopThreads) {
    this.lanes = lanes;
    this.stopThreads = stopThreads;
  }

  /**
   * Opens {@code count} plaintext Netty channels to {@code target}, spread over one event loop
   * per core at most (epoll where available), each channel's lane run by its own event loop.
   */
  static LoadChannels netty(String target, int count) {
    return netty(target, count, InsecureChannelCredentials.create(), List.of());
  }

  /**
   * As {@link #netty(String, int)}, with the given transport credentials (TLS or plaintext)
   * and interceptors (a bearer token) on every channel.
   */
  static LoadChannels netty(String target, int count, ChannelCredentials credentials,
      List<ClientInterceptor> interceptors) {
    int threads = Math.max(1, Math.min(count, Runtime.getRuntime().availableProcessors()));
    DefaultThreadFactory factory = new DefaultThreadFactory("mfctl-load", true);
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, factory, io);
    return open(count, () -> {
      // An event loop is a group of one: the channel's connection is served by this loop.
      EventLoop loop = group.next();
      return new Lane(NettyChannelBuilder.forTarget(target, credentials)
          .intercept(interceptors)
          .eventLoopGroup(loop)
          .channelType(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
          .build(), loop);
    }, () -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
  }

  /**
   * Opens {@code count} channels from {@code factory}; their lanes share one scheduler thread.
   */
  static LoadChannels over(Function<String, ManagedChannel> factory, String target, int count) {
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "mfctl-load");
      t.setDaemon(true);
      return t;
    });
    return open(count, () -> new Lane(factory.apply(target), scheduler), scheduler::shutdownNow);
  }

  /** Makes {@code count} lanes; if one fails, closes those made and stops the threads. */
  private static LoadChannels open(int count, Supplier<Lane> lane, Runnable stopThreads) {
    List<Lane> lanes = new ArrayList<>();
    try {
      for (int c = 0; c < count; c++) {
        lanes.add(lane.get());
      }
    } catch (RuntimeException e) {
      lanes.forEach(l -> l.channel().shutdownNow());
      stopThreads.run();
      throw e;
    }
    return new LoadChannels(lanes, stopThreads);
  }

  /** The lanes, one per channel. */
  List<Lane> lanes() {
    return lanes;
  }

  /** The first channel, for the calls that prepare the load. */
  Channel first() {
    return lanes.get(0).channel();
  }

  /** Shuts the channels down, waits a little for them, then stops the lanes' threads. */
  @Override
  public void close() {
    for (Lane l : lanes) {
      l.channel().shutdownNow();
    }
    try {
      for (Lane l : lanes) {
        l.channel().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      // Closing stops waiting; the caller's thread keeps its interrupt.
      Thread.currentThread().interrupt();
    } finally {
      stopThreads.run();
    }
  }
}
