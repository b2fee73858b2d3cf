package io.mfserve.server;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The transport's threads: one acceptor and a fixed group of event loops that read, decode
 * and answer calls (short queries run on them, with no hand-off), owned by the server and
 * started all at once.
 *
 * <p>gRPC's default groups are shared by every server in the process and start each loop's
 * thread lazily, on the first connection placed on it; a server's thread count then creeps up
 * over its first connections, which a leak check cannot tell from a leak. These groups are the
 * server's own, of the size gRPC would use (two loops per core, Netty's default), on epoll
 * where the platform has it, as gRPC's are; every loop is started here, so the count is flat
 * from the first call on.
 */
final class EventLoops implements AutoCloseable {
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final boolean epoll;

  /** Creates and starts the groups: {@code loops} event loops, at least one. */
  EventLoops(int loops) {
    epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("mfserve-accept", true),
        io);
    workers = new MultiThreadIoEventLoopGroup(Math.max(1, loops),
        new DefaultThreadFactory("mfserve-netty", true), io);
    startAll();
  }

  /** Two event loops per core, as gRPC's (Netty's) default group has. */
  static EventLoops defaults() {
    return new EventLoops(2 * Runtime.getRuntime().availableProcessors());
  }

  /** Makes {@code builder} use these groups and the matching channel type; returns it. */
  NettyServerBuilder applyTo(NettyServerBuilder builder) {
    return builder.bossEventLoopGroup(boss).workerEventLoopGroup(workers)
        .channelType(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class);
  }

  /** Runs an empty task on every loop and waits for them: each loop's thread now exists. */
  private void startAll() {
    CountDownLatch started = new CountDownLatch(count(boss) + count(workers));
    for (EventLoopGroup g : new EventLoopGroup[] {boss, workers}) {
      for (EventExecutor loop : g) {
        loop.execute(started::countDown);
      }
    }
    try {
      if (!started.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the transport's event loops did not start in 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the event loops", e);
    }
  }

  private static int count(EventLoopGroup g) {
    int n = 0;
    for (EventExecutor ignored : g) {
      n++;
    }
    return n;
  }

  /** Shuts both groups down; called after the servers using them have terminated. */
  @Override
  public void close() {
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
