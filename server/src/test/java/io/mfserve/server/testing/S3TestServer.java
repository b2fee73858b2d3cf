package io.mfserve.server.testing;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.PutOptions2;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.KeyNotFoundException;
import org.jclouds.blobstore.TransientApiMetadata;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.domain.BlobMetadata;
import org.jclouds.blobstore.domain.MultipartPart;
import org.jclouds.blobstore.domain.MultipartUpload;
import org.jclouds.blobstore.options.PutOptions;
import org.jclouds.blobstore.util.ForwardingBlobStore;
import org.jclouds.filesystem.FilesystemApiMetadata;
import org.jclouds.filesystem.reference.FilesystemConstants;
import org.jclouds.http.HttpResponse;
import org.jclouds.http.HttpResponseException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * A real S3-compatible server on loopback for tests: S3Proxy (org.gaul:s3proxy 2.9.0) serving
 * jclouds' in-memory ("transient") blob store, or its "filesystem" blob store on a directory
 * that outlives a restart. Requests are signed (AWS signature v2 or v4) with the fixed test
 * credentials {@link #ACCESS_KEY} / {@link #SECRET_KEY}; the server listens on 127.0.0.1 on a
 * port the kernel picks (or a given one, for a restart on the same address).
 *
 * <p>Why S3Proxy in-process and not a mock of the SDK: the S3 backend's behaviour that matters
 * (signing, streaming, multipart uploads, pagination, conditional writes, error codes) is the
 * HTTP conversation, which a mock would only restate. S3Proxy resolves from Maven Central at
 * test scope and starts in about a second.
 *
 * <p><b>Conditional writes.</b> S3Proxy 2.9.0 honours {@code If-None-Match: *} and
 * {@code If-Match: <etag>} on PutObject (412 PreconditionFailed; 404 NoSuchKey for If-Match on
 * an absent key), but on these two blob stores it emulates them as a metadata read followed by
 * an unconditional write, with nothing held in between: two racing conditional writes can both
 * pass (seen here: four writers making 25 compare-and-set increments each left the counter at
 * 91 to 99 instead of 100). Real S3 decides them atomically. Unless
 * {@link Builder#atomicConditionalWrites(boolean)} turns it off, this server therefore wraps the
 * blob store so that every mutation of a key (put, multipart completion, delete) is serialized
 * per key and a put's If-Match / If-None-Match is checked again under that lock: the guarantee
 * S3 gives, within this one server. Turn it off to see S3Proxy's own behaviour.
 *
 * <p><b>Clients.</b> Use path-style access and any region. S3Proxy 2.9.0 refuses the SDK's
 * default uploads since 2.30 (aws-chunked bodies with a trailing CRC32): build other SDK clients
 * with {@code requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)}, as
 * {@code S3ObjectStore} does.
 *
 * <p>Start one with {@link #start()} or {@link #builder()}, create buckets with
 * {@link #createBucket}, and close it when done. Thread-safe.
 */
public final class S3TestServer implements AutoCloseable {
  /** The access key id every request must be signed with. */
  public static final String ACCESS_KEY = "mfserve-test-access";
  /** The secret access key every request must be signed with. */
  public static final String SECRET_KEY = "mfserve-test-secret";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final BlobStoreContext context;
  private final S3Proxy proxy;
  private final URI endpoint;
  private final AtomicInteger multipartCompletions;

  private S3TestServer(BlobStoreContext context, S3Proxy proxy, AtomicInteger completions) {
    this.context = context;
    this.proxy = proxy;
    this.endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    this.multipartCompletions = completions;
  }

  /**
   * Runs a server until killed, for benchmarks and manual runs:
   * {@code S3TestServer DIRECTORY PORT BUCKET} (its blobs in DIRECTORY, BUCKET created); prints
   * one line, {@code endpoint http://127.0.0.1:PORT}, once it serves. Credentials are
   * {@link #ACCESS_KEY} and {@link #SECRET_KEY}.
   */
  public static void main(String[] args) throws Exception {
    S3TestServer server = builder().directory(java.nio.file.Path.of(args[0]))
        .port(Integer.parseInt(args[1])).start();
    server.createBucket(args[2]);
    System.out.println("endpoint " + server.endpoint());
    System.out.flush();
    Thread.currentThread().join();
  }

  /** Starts an in-memory server on a free port, with atomic conditional writes. */
  public static S3TestServer start() throws IOException {
    return builder().start();
  }

  /** Returns a builder for a server with other settings. */
  public static Builder builder() {
    return new Builder();
  }

  /** The server's address, e.g. {@code http://127.0.0.1:41234}; use path-style access. */
  public URI endpoint() {
    return endpoint;
  }

  /** The port the server listens on. */
  public int port() {
    return proxy.getPort();
  }

  /** Credentials that the server accepts, for an in-process SDK client. */
  public AwsCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
  }

  /**
   * Environment variables that point a child process's AWS SDK at this server's credentials
   * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION); the endpoint itself is mfserve
   * configuration.
   */
  public Map<String, String> environment() {
    return Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY,
        "AWS_REGION", "us-east-1");
  }

  /**
   * Creates bucket {@code name} (no error if it exists).
   *
   * @throws IllegalArgumentException if {@code name} is not a valid S3 bucket name (3 to 63 of
   *     {@code [a-z0-9.-]}), which S3Proxy would store but never serve
   */
  public void createBucket(String name) {
    if (!name.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new IllegalArgumentException("not a valid S3 bucket name: " + name);
    }
    context.getBlobStore().createContainerInLocation(null, name);
  }

  /** How many multipart uploads the server has completed so far (counted where it joins them). */
  public int multipartUploadsCompleted() {
    return multipartCompletions.get();
  }

  /** Stops the server and releases its blob store; in-memory objects are lost. */
  @Override
  public void close() throws IOException {
    try {
      proxy.stop();
    } catch (Exception e) {
      throw new IOException("stopping S3Proxy on " + endpoint, e);
    } finally {
      context.close();
    }
  }

  /** Settings for a server; {@link #start()} starts it. */
  public static final class Builder {
    private Path directory;
    private int port;
    private boolean atomicConditionalWrites = true;

    private Builder() { }

    /**
     * Stores objects as files under {@code directory} (jclouds' filesystem blob store), so that
     * they survive a restart; by default they are held in memory.
     */
    public Builder directory(Path directory) {
      this.directory = directory;
      return this;
    }

    /** Listens on this port instead of one the kernel picks (for a restart at one address). */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** Whether to close S3Proxy's check-then-write race on conditional puts (default true). */
    public Builder atomicConditionalWrites(boolean atomic) {
      this.atomicConditionalWrites = atomic;
      return this;
    }

    /** Starts the server and waits until it answers HTTP on its port. */
    public S3TestServer start() throws IOException {
      Properties properties = new Properties();
      // By API metadata, not by provider id: a lookup by id loads every ProviderMetadata on
      // the class path, and S3Proxy's own Azure provider needs the Azure SDK, excluded here.
      ContextBuilder contextBuilder;
      if (directory != null) {
        Files.createDirectories(directory);
        properties.setProperty(FilesystemConstants.PROPERTY_BASEDIR, directory.toString());
        contextBuilder = ContextBuilder.newBuilder(new FilesystemApiMetadata());
      } else {
        contextBuilder = ContextBuilder.newBuilder(new TransientApiMetadata());
      }
      BlobStoreContext context = contextBuilder.credentials("identity", "credential")
          .overrides(properties).build(BlobStoreContext.class);
      AtomicInteger completions = new AtomicInteger();
      BlobStore blobStore =
          new AtomicConditionalPuts(context.getBlobStore(), atomicConditionalWrites, completions);
      S3Proxy proxy = S3Proxy.builder()
          .blobStore(blobStore)
          .endpoint(URI.create("http://127.0.0.1:" + port))
          .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
          .build();
      try {
        proxy.start();
        S3TestServer server = new S3TestServer(context, proxy, completions);
        server.awaitAnswering();
        return server;
      } catch (Exception e) {
        try {
          proxy.stop();
        } catch (Exception stop) {
          e.addSuppressed(stop);
        }
        context.close();
        if (e instanceof IOException io) {
          throw io;
        }
        throw new IOException("starting S3Proxy", e);
      }
    }
  }

  /** Waits until Jetty is started and a plain HTTP request gets any answer. */
  private void awaitAnswering() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (AbstractLifeCycle.STARTED.equals(proxy.getState())) {
        try {
          HttpURLConnection connection = (HttpURLConnection) endpoint.toURL().openConnection();
          connection.setConnectTimeout(1000);
          connection.setReadTimeout(5000);
          try {
            connection.getResponseCode(); // 403 to an unsigned request: it answers
            return;
          } finally {
            connection.disconnect();
          }
        } catch (IOException e) {
          last = e;
        }
      }
      Thread.sleep(20);
    }
    IOException timeout = new IOException("S3Proxy did not answer on " + endpoint + " within "
        + START_TIMEOUT.toSeconds() + " s");
    if (last != null) {
      timeout.addSuppressed(last);
    }
    throw timeout;
  }

  /**
   * Serializes each key's mutations and checks a put's If-Match / If-None-Match under the
   * key's lock, so that S3Proxy's conditional puts are atomic as they are on S3 (see the
   * class comment). S3Proxy passes the two headers down in {@link PutOptions2}; it has checked
   * them once already without a lock, and this check repeats it where it holds. With
   * {@code atomic} false it only counts completed multipart uploads.
   */
  private static final class AtomicConditionalPuts extends ForwardingBlobStore {
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final boolean atomic;
    private final AtomicInteger completions;

    AtomicConditionalPuts(BlobStore delegate, boolean atomic, AtomicInteger completions) {
      super(delegate);
      this.atomic = atomic;
      this.completions = completions;
    }

    /** The key's lock; with atomic off, a fresh object, which serializes nothing. */
    private Object lock(String container, String name) {
      return atomic ? locks.computeIfAbsent(container + '\n' + name, k -> new Object())
          : new Object();
    }

    @Override
    public String putBlob(String container, Blob blob) {
      return putBlob(container, blob, PutOptions.NONE);
    }

    @Override
    public String putBlob(String container, Blob blob, PutOptions options) {
      String name = blob.getMetadata().getName();
      synchronized (lock(container, name)) {
        if (atomic && options instanceof PutOptions2 conditions) {
          check(container, name, conditions.getIfMatch(), conditions.getIfNoneMatch());
        }
        return delegate().putBlob(container, blob, options);
      }
    }

    private void check(String container, String name, String ifMatch, String ifNoneMatch) {
      if (ifMatch == null && ifNoneMatch == null) {
        return;
      }
      BlobMetadata current = delegate().blobMetadata(container, name);
      String etag = current == null ? null : unquote(current.getETag());
      if (ifMatch != null) {
        if (current == null) {
          throw new KeyNotFoundException(container, name, "If-Match");
        }
        if (!ifMatch.equals("*") && !unquote(ifMatch).equals(etag)) {
          throw preconditionFailed();
        }
      }
      if (ifNoneMatch != null && current != null
          && (ifNoneMatch.equals("*") || unquote(ifNoneMatch).equals(etag))) {
        throw preconditionFailed();
      }
    }

    private static HttpResponseException preconditionFailed() {
      return new HttpResponseException("precondition failed", null,
          HttpResponse.builder().statusCode(412).build());
    }

    private static String unquote(String etag) {
      if (etag != null && etag.length() >= 2 && etag.startsWith("\"") && etag.endsWith("\"")) {
        return etag.substring(1, etag.length() - 1);
      }
      return etag;
    }

    @Override
    public String completeMultipartUpload(MultipartUpload mpu, List<MultipartPart> parts) {
      synchronized (lock(mpu.containerName(), mpu.blobName())) {
        String etag = delegate().completeMultipartUpload(mpu, parts);
        completions.incrementAndGet();
        return etag;
      }
    }

    @Override
    public void removeBlob(String container, String name) {
      synchronized (lock(container, name)) {
        delegate().removeBlob(container, name);
      }
    }

    @Override
    public void removeBlobs(String container, Iterable<String> names) {
      for (String name : names) {
        removeBlob(container, name);
      }
    }
  }
}
