package io.mfserve.server.repository;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The model repository's object store in an S3 bucket (AWS S3 or an S3-compatible service),
 * under a key prefix: {@code s3://bucket/prefix}. Object {@code name} is key
 * {@code prefix/name}. It lets every replica read the same snapshots and aliases without a
 * shared file system.
 *
 * <p><b>Writes</b> stream the body through a buffer of one part (8 MiB): a body that fits is
 * sent as one PutObject; a larger one becomes a multipart upload of 8 MiB parts, completed
 * when the body returns and aborted when it throws, so that a reader sees the old object or
 * the whole new one and an interrupted upload leaves no parts behind. Memory per write is one
 * part, whatever the object's size. Each request carries the part's Content-MD5, which every
 * S3-compatible service checks, in a plain body: the SDK's aws-chunked uploads with trailing
 * checksums (its default since 2.30) are off, since S3-compatible services (S3Proxy 2.9.0
 * among them) refuse them or mishandle them.
 *
 * <p><b>Reads</b> stream the GetObject response; an absent key is a
 * {@link NoSuchFileException}. <b>Lists</b> page through ListObjectsV2 and report each
 * object's ETag as its version; keys under the prefix that are not valid
 * {@linkplain ObjectNames names} (written by something else) are left out.
 *
 * <p><b>Compare-and-set</b> ({@link #writeIfVersion}) uses S3's conditional writes:
 * {@code If-None-Match: *} to create, {@code If-Match: <etag>} to replace; 412
 * PreconditionFailed, 409 ConditionalRequestConflict, or 404 for a replaced object that was
 * deleted meanwhile, mean another writer came first. PutObject asks for "100 Continue", so
 * that a refusal sent from the headers arrives as such and not as a broken pipe; a refusal of
 * an SDK retry is reported as an IOException (the first attempt may have written), never as
 * false. This is atomic across processes on a service that decides the condition atomically,
 * as AWS S3 does (S3Proxy 2.9.0 does not: see {@code S3TestServer}). Whether the service
 * honours the headers at all is found out once by a probe write
 * ({@link S3Options.ConditionalWrites}); where it does not, the store logs a warning and
 * compares and writes under a lock held in this JVM, which is atomic only among this
 * process's writers.
 *
 * <p>Errors from the SDK become {@link IOException}s whose message names the object
 * ({@code s3://bucket/prefix/name}), the operation, and the service's status and error code.
 * Credentials come from the SDK's default chain. Thread-safe; {@link #close} closes the
 * client.
 */
public final class S3ObjectStore implements ObjectStore {
  /** The part size of multipart uploads, and the largest body sent as one PutObject. */
  static final int DEFAULT_PART_SIZE = 8 << 20;
  /** S3's smallest part size (all parts but the last). */
  static final int MIN_PART_SIZE = 5 << 20;
  /** The most {@link #readSmall} reads: it holds the object whole. */
  static final int MAX_SMALL_SIZE = 16 << 20;
  /** ListObjectsV2's page size (S3's own maximum). */
  static final int DEFAULT_LIST_PAGE_SIZE = 1000;

  private static final Logger LOG = Logger.getLogger(S3ObjectStore.class.getName());
  private static final int INITIAL_BUFFER = 64 << 10;
  /**
   * Where the conditional-write probe writes: a key under the prefix whose name starts with
   * '.', which {@link ObjectNames#check} refuses, so that no object of the store can collide
   * with it and no listing shows it.
   */
  private static final String PROBE_DIRECTORY = ".mfserve-probe/";
  /**
   * The in-process compare-and-set locks ({@link S3Options.ConditionalWrites#IN_PROCESS}):
   * striped by bucket and key, and shared by every store in the JVM so that two stores on one
   * bucket exclude each other too. A fixed array: it holds no data, only mutual exclusion.
   */
  private static final ReentrantLock[] CAS_LOCKS = new ReentrantLock[64];

  static {
    for (int i = 0; i < CAS_LOCKS.length; i++) {
      CAS_LOCKS[i] = new ReentrantLock();
    }
  }

  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final int partSize;
  private final int listPageSize;
  private final S3Options.ConditionalWrites conditionalWrites;
  private final Object probeLock = new Object();
  private volatile Boolean nativeConditionalWrites;

  private S3ObjectStore(S3Client s3, String bucket, String prefix,
      S3Options.ConditionalWrites conditionalWrites, int partSize, int listPageSize) {
    this.s3 = s3;
    this.bucket = bucket;
    this.prefix = prefix;
    this.conditionalWrites = conditionalWrites;
    this.partSize = partSize;
    this.listPageSize = listPageSize;
  }

  /**
   * Opens the store at {@code location} ({@code s3://bucket} or {@code s3://bucket/prefix}),
   * with credentials from the SDK's default chain. Sends no request.
   *
   * @throws IllegalArgumentException if {@code location} is not such a URI
   * @throws IOException if the client cannot be configured (e.g. no region can be found)
   */
  public static S3ObjectStore create(URI location, S3Options options) throws IOException {
    return create(location, options, DefaultCredentialsProvider.builder().build());
  }

  /** As {@link #create(URI, S3Options)}, with the given credentials. */
  public static S3ObjectStore create(URI location, S3Options options,
      AwsCredentialsProvider credentials) throws IOException {
    return create(location, options, credentials, DEFAULT_PART_SIZE, DEFAULT_LIST_PAGE_SIZE);
  }

  /** As {@link #create(URI, S3Options, AwsCredentialsProvider)}; tests choose the sizes. */
  static S3ObjectStore create(URI location, S3Options options,
      AwsCredentialsProvider credentials, int partSize, int listPageSize) throws IOException {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(credentials, "credentials");
    if (partSize < MIN_PART_SIZE) {
      throw new IllegalArgumentException("part size below S3's minimum: " + partSize);
    }
    if (listPageSize < 1 || listPageSize > 1000) {
      throw new IllegalArgumentException("list page size not in 1..1000: " + listPageSize);
    }
    String bucket = bucketOf(location);
    String prefix = prefixOf(location);
    S3ClientBuilder builder = S3Client.builder()
        .httpClientBuilder(Apache5HttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(10))
            .socketTimeout(Duration.ofSeconds(60))
            // honours the Expect: 100-continue that PutObject and UploadPart send (below)
            .expectContinueEnabled(true))
        .credentialsProvider(credentials)
        .forcePathStyle(options.pathStyle())
        // Content-MD5 (below) instead of trailing checksums, and plain bodies instead of
        // aws-chunked ones (see the class comment).
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build());
    if (options.endpoint() != null) {
      builder.endpointOverride(options.endpoint());
    }
    if (options.region() != null) {
      builder.region(Region.of(options.region()));
    } else if (options.endpoint() != null) {
      builder.region(Region.US_EAST_1);
    }
    S3Client client;
    try {
      client = builder.build();
    } catch (SdkException e) {
      throw new IOException(where(bucket, prefix) + ": cannot configure the S3 client: "
          + e.getMessage(), e);
    }
    return new S3ObjectStore(client, bucket, prefix, options.conditionalWrites(), partSize,
        listPageSize);
  }

  private static String bucketOf(URI location) {
    Objects.requireNonNull(location, "location");
    if (!"s3".equals(location.getScheme()) || location.getRawAuthority() == null
        || location.getRawAuthority().isEmpty() || location.getRawQuery() != null
        || location.getRawFragment() != null) {
      throw new IllegalArgumentException("not an s3://bucket[/prefix] URI: " + location);
    }
    String bucket = location.getAuthority();
    if (bucket.contains("@") || bucket.contains(":")) {
      throw new IllegalArgumentException("bad bucket name in " + location);
    }
    return bucket;
  }

  /** The key prefix: "" or '/'-separated segments ending in '/'. */
  private static String prefixOf(URI location) {
    String path = location.getPath() == null ? "" : location.getPath();
    int start = 0;
    int end = path.length();
    while (start < end && path.charAt(start) == '/') {
      start++;
    }
    while (end > start && path.charAt(end - 1) == '/') {
      end--;
    }
    path = path.substring(start, end);
    if (path.isEmpty()) {
      return "";
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException("bad key prefix in " + location);
      }
    }
    return path + "/";
  }

  private static String where(String bucket, String prefix) {
    String p = prefix.isEmpty() ? "" : "/" + prefix.substring(0, prefix.length() - 1);
    return "s3://" + bucket + p;
  }

  @Override
  public String describe() {
    return where(bucket, prefix);
  }

  private String key(String name) {
    return prefix + ObjectNames.check(name);
  }

  private String uri(String key) {
    return "s3://" + bucket + "/" + key;
  }

  // ---------------------------------------------------------------------------------------
  // write

  @Override
  public void write(String name, Body body) throws IOException {
    Objects.requireNonNull(body, "body");
    Upload upload = new Upload(key(name));
    try {
      body.writeTo(upload);
      upload.finish();
    } catch (IOException | RuntimeException | Error e) {
      upload.abort(e);
      throw e;
    }
  }

  @Override
  public boolean create(String name, Body body) throws IOException {
    Objects.requireNonNull(body, "body");
    String key = key(name);
    if (!usesNativeConditionalWrites()) {
      ReentrantLock lock =
          CAS_LOCKS[Math.floorMod((bucket + '\n' + key).hashCode(), CAS_LOCKS.length)];
      lock.lock();
      try {
        if (exists(key)) {
          return false;
        }
        write(name, body);
        return true;
      } finally {
        lock.unlock();
      }
    }
    Upload upload = new Upload(key);
    upload.createOnly = true;
    try {
      body.writeTo(upload);
      return upload.finish();
    } catch (IOException | RuntimeException | Error e) {
      upload.abort(e);
      throw e;
    }
  }

  private boolean exists(String key) throws IOException {
    try {
      s3.headObject(r -> r.bucket(bucket).key(key));
      return true;
    } catch (SdkException e) {
      if (isNoSuchKey(e)) {
        return false;
      }
      throw failure(key, "read version", e);
    }
  }

  /**
   * The stream a body writes to: a buffer of up to one part, sent as one PutObject when the
   * body ends within it, or as the parts of a multipart upload otherwise. A full buffer is
   * sent only when more bytes come, so that the last part is never empty.
   */
  private final class Upload extends OutputStream {
    private final String key;
    private byte[] buffer = new byte[INITIAL_BUFFER];
    private int count;
    private String uploadId;
    private final List<CompletedPart> parts = new ArrayList<>();
    private boolean finished;
    /** Complete only if no object of the key exists (If-None-Match: *). */
    boolean createOnly;

    Upload(String key) {
      this.key = key;
    }

    @Override
    public void write(int b) throws IOException {
      if (finished || count == partSize) {
        write(new byte[] {(byte) b}, 0, 1);
        return;
      }
      ensureCapacity(count + 1);
      buffer[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (finished) {
        throw new IOException(uri(key) + ": written after the body returned");
      }
      while (len > 0) {
        if (count == partSize) {
          sendPart();
        }
        int n = Math.min(len, partSize - count);
        ensureCapacity(count + n);
        System.arraycopy(b, off, buffer, count, n);
        count += n;
        off += n;
        len -= n;
      }
    }

    private void ensureCapacity(int needed) {
      if (needed > buffer.length) {
        int size = buffer.length;
        while (size < needed) {
          size = (int) Math.min((long) size * 2, partSize);
        }
        buffer = Arrays.copyOf(buffer, size);
      }
    }

    /** A body may close the stream; the store decides when the object is complete. */
    @Override
    public void close() { }

    private void sendPart() throws IOException {
      try {
        if (uploadId == null) {
          uploadId = s3.createMultipartUpload(r -> r.bucket(bucket).key(key)).uploadId();
        }
        int number = parts.size() + 1;
        String etag = s3.uploadPart(r -> r.bucket(bucket).key(key).uploadId(uploadId)
                .partNumber(number).contentLength((long) count).contentMD5(md5(buffer, count))
            .overrideConfiguration(EXPECT_CONTINUE),
            body(buffer, count)).eTag();
        parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
        count = 0;
      } catch (SdkException e) {
        throw failure(key, "upload part " + (parts.size() + 1), e);
      }
    }

    /** Sends what is left; returns false if {@link #createOnly} and the key exists. */
    boolean finish() throws IOException {
      finished = true;
      if (uploadId == null) {
        try {
          PutObjectRequest.Builder put = putRequest(key, buffer, count);
          if (createOnly) {
            put.ifNoneMatch("*");
          }
          s3.putObject(put.build(), body(buffer, count));
        } catch (SdkException e) {
          if (createOnly && isRefusal(e, false)) {
            return refusedCreate(e);
          }
          throw failure(key, "write", e);
        }
        return true;
      }
      sendPart();
      if (createOnly && exists(key)) {
        // If-None-Match below decides it atomically on AWS S3; some S3-compatible servers
        // (S3Proxy 2.9) ignore it on CompleteMultipartUpload, so look first as well: that
        // leaves only the moment between this look and the completion open there.
        abort(new IOException("exists"));
        return false;
      }
      try {
        s3.completeMultipartUpload(r -> {
          r.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts));
          if (createOnly) {
            r.ifNoneMatch("*");
          }
        });
        uploadId = null;
      } catch (SdkException e) {
        if (createOnly && isRefusal(e, false)) {
          return refusedCreate(e);
        }
        throw failure(key, "complete multipart upload", e);
      }
      return true;
    }

    private boolean refusedCreate(SdkException e) throws IOException {
      Integer attempts = e.numAttempts();
      if (attempts != null && attempts > 1) {
        throw new IOException(uri(key) + ": create outcome unknown: attempt " + attempts
            + " was refused (" + status(e) + ") after an earlier attempt may have written it;"
            + " read it again", e);
      }
      abort(e);
      return false;
    }

    /** Aborts the multipart upload, if one is open, so that its parts are not kept. */
    void abort(Throwable cause) {
      finished = true;
      buffer = null;
      if (uploadId == null) {
        return;
      }
      try {
        s3.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId));
      } catch (SdkException e) {
        cause.addSuppressed(failure(key, "abort multipart upload " + uploadId, e));
      }
    }
  }

  private PutObjectRequest.Builder putRequest(String key, byte[] bytes, int length) {
    return PutObjectRequest.builder().bucket(bucket).key(key).contentLength((long) length)
        .contentMD5(md5(bytes, length)).overrideConfiguration(EXPECT_CONTINUE);
  }

  /**
   * Asks for "100 Continue" before the body is sent, on small bodies too (the SDK asks only
   * for large ones). A service may refuse a PutObject from its headers alone (412 of a
   * conditional write, 403) and close the connection without reading the body; without this,
   * the client then sees a broken pipe instead of the refusal, and retries the request, so that
   * a compare-and-set could no longer tell a refusal from a lost answer.
   */
  private static final AwsRequestOverrideConfiguration EXPECT_CONTINUE =
      AwsRequestOverrideConfiguration.builder().putHeader("Expect", "100-continue").build();

  /** A request body over the first {@code length} bytes, without copying them. */
  private static RequestBody body(byte[] bytes, int length) {
    return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(bytes, 0, length),
        length, "application/octet-stream");
  }

  private static String md5(byte[] bytes, int length) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      md5.update(bytes, 0, length);
      return Base64.getEncoder().encodeToString(md5.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has MD5", e);
    }
  }

  // ---------------------------------------------------------------------------------------
  // read, list, delete

  @Override
  public InputStream open(String name) throws IOException {
    String key = key(name);
    ResponseInputStream<GetObjectResponse> in;
    try {
      in = s3.getObject(r -> r.bucket(bucket).key(key));
    } catch (SdkException e) {
      if (isNoSuchKey(e)) {
        throw new NoSuchFileException(uri(key));
      }
      throw failure(key, "open", e);
    }
    return new ObjectInputStream(key, in);
  }

  /**
   * A GetObject body: SDK exceptions during reading become IOExceptions, and closing before
   * the end aborts the connection instead of draining the rest of a large object.
   */
  private final class ObjectInputStream extends FilterInputStream {
    private final String key;
    private final ResponseInputStream<GetObjectResponse> response;
    private boolean atEnd;

    ObjectInputStream(String key, ResponseInputStream<GetObjectResponse> response) {
      super(response);
      this.key = key;
      this.response = response;
    }

    @Override
    public int read() throws IOException {
      try {
        int b = super.read();
        atEnd |= b < 0;
        return b;
      } catch (SdkException e) {
        throw failure(key, "read", e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        int n = super.read(b, off, len);
        atEnd |= n < 0;
        return n;
      } catch (SdkException e) {
        throw failure(key, "read", e);
      }
    }

    @Override
    public void close() throws IOException {
      try {
        if (!atEnd) {
          response.abort();
        }
        super.close();
      } catch (SdkException e) {
        throw failure(key, "close", e);
      }
    }
  }

  @Override
  public List<ObjectInfo> list(String namePrefix) throws IOException {
    checkPrefix(namePrefix);
    String keyPrefix = prefix + namePrefix;
    ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket)
        .prefix(keyPrefix).maxKeys(listPageSize).build();
    List<ObjectInfo> objects = new ArrayList<>();
    try {
      for (S3Object object : s3.listObjectsV2Paginator(request).contents()) {
        String name = object.key().substring(prefix.length());
        if (isName(name)) {
          objects.add(new ObjectInfo(name, object.size(), object.eTag()));
        }
      }
    } catch (SdkException e) {
      throw failure(keyPrefix, "list", e);
    }
    return objects;
  }

  /** A list prefix is "" or the start of a name: its characters, no "." or ".." segment. */
  private static void checkPrefix(String namePrefix) {
    Objects.requireNonNull(namePrefix, "prefix");
    if (namePrefix.isEmpty()) {
      return;
    }
    String probe = namePrefix.endsWith("/") ? namePrefix + "x" : namePrefix;
    if (!isName(probe)) {
      throw new IllegalArgumentException("bad object name prefix: " + namePrefix);
    }
  }

  private static boolean isName(String name) {
    try {
      ObjectNames.check(name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Override
  public void delete(String name) throws IOException {
    String key = key(name);
    try {
      s3.deleteObject(r -> r.bucket(bucket).key(key));
    } catch (SdkException e) {
      if (!isNoSuchKey(e)) {
        throw failure(key, "delete", e);
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // compare-and-set

  @Override
  public Versioned readSmall(String name) throws IOException {
    String key = key(name);
    try (ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(bucket).key(key))) {
      Long length = in.response().contentLength();
      if (length != null && length > MAX_SMALL_SIZE) {
        in.abort();
        throw new IOException(uri(key) + ": " + length
            + " bytes is too large to read whole (at most " + MAX_SMALL_SIZE + ")");
      }
      byte[] bytes = in.readNBytes(MAX_SMALL_SIZE + 1);
      if (bytes.length > MAX_SMALL_SIZE) {
        in.abort();
        throw new IOException(uri(key) + ": too large to read whole (at most " + MAX_SMALL_SIZE
            + " bytes)");
      }
      return new Versioned(bytes, in.response().eTag());
    } catch (SdkException e) {
      if (isNoSuchKey(e)) {
        return null;
      }
      throw failure(key, "read", e);
    }
  }

  @Override
  public boolean writeIfVersion(String name, byte[] bytes, String expectedVersion)
      throws IOException {
    Objects.requireNonNull(bytes, "bytes");
    String key = key(name);
    if (usesNativeConditionalWrites()) {
      return conditionalPut(key, bytes, expectedVersion);
    }
    return lockedCompareAndPut(key, bytes, expectedVersion);
  }

  /**
   * One conditional PutObject. A refusal that came on a retry is no answer: the attempt before
   * it may have written the object (its response was lost), which is what made the condition
   * fail; this is then an IOException, not false, since the caller must re-read to know.
   */
  private boolean conditionalPut(String key, byte[] bytes, String expectedVersion)
      throws IOException {
    PutObjectRequest.Builder request = putRequest(key, bytes, bytes.length);
    if (expectedVersion == null) {
      request.ifNoneMatch("*");
    } else {
      request.ifMatch(expectedVersion);
    }
    try {
      s3.putObject(request.build(), body(bytes, bytes.length));
      return true;
    } catch (SdkException e) {
      if (isRefusal(e, expectedVersion != null)) {
        Integer attempts = e.numAttempts();
        if (attempts != null && attempts > 1) {
          throw new IOException(uri(key) + ": compare-and-set outcome unknown: attempt "
              + attempts + " was refused (" + status(e) + ") after an earlier attempt failed "
              + "in a way that may have written it; read it again", e);
        }
        return false;
      }
      throw failure(key, "conditional write", e);
    }
  }

  /** Whether a conditional put's failure means that the condition did not hold. */
  private static boolean isRefusal(SdkException e, boolean replacing) {
    if (!(e instanceof AwsServiceException service)) {
      return false;
    }
    int status = service.statusCode();
    // 409 ConditionalRequestConflict: a concurrent conditional write to the key is in flight.
    return status == 412 || status == 409 || (replacing && isNoSuchKey(e));
  }

  private boolean lockedCompareAndPut(String key, byte[] bytes, String expectedVersion)
      throws IOException {
    ReentrantLock lock =
        CAS_LOCKS[Math.floorMod((bucket + '\n' + key).hashCode(), CAS_LOCKS.length)];
    lock.lock();
    try {
      String current;
      try {
        current = s3.headObject(r -> r.bucket(bucket).key(key)).eTag();
      } catch (SdkException e) {
        if (!isNoSuchKey(e)) {
          throw failure(key, "read version", e);
        }
        current = null;
      }
      boolean holds = expectedVersion == null ? current == null
          : current != null && unquote(current).equals(unquote(expectedVersion));
      if (!holds) {
        return false;
      }
      try {
        s3.putObject(putRequest(key, bytes, bytes.length).build(), body(bytes, bytes.length));
      } catch (SdkException e) {
        throw failure(key, "write", e);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  private static String unquote(String etag) {
    if (etag.length() >= 2 && etag.startsWith("\"") && etag.endsWith("\"")) {
      return etag.substring(1, etag.length() - 1);
    }
    return etag;
  }

  /** Whether compare-and-set uses the service's conditional writes (probing once if asked to). */
  boolean usesNativeConditionalWrites() throws IOException {
    switch (conditionalWrites) {
      case NATIVE:
        return true;
      case IN_PROCESS:
        return false;
      default:
        break;
    }
    Boolean known = nativeConditionalWrites;
    if (known != null) {
      return known;
    }
    synchronized (probeLock) {
      if (nativeConditionalWrites == null) {
        nativeConditionalWrites = probeConditionalWrites();
      }
      return nativeConditionalWrites;
    }
  }

  /** What a probe's conditional put did. */
  private enum Outcome { WRITTEN, REFUSED, NOT_UNDERSTOOD }

  /**
   * Finds out whether the service honours conditional writes, with a probe object of its own:
   * writes it, then asks for three conditional overwrites; honoured means that
   * {@code If-None-Match: *} and a wrong {@code If-Match} are refused and the right
   * {@code If-Match} is accepted. A failure that says nothing about conditional writes (access
   * denied, a missing bucket, the network) is thrown, and the next compare-and-set probes
   * again. Whether the service decides the condition atomically no probe can tell; AWS S3 does.
   */
  private boolean probeConditionalWrites() throws IOException {
    String key = prefix + PROBE_DIRECTORY + UUID.randomUUID();
    try {
      String etag;
      try {
        etag = s3.putObject(putRequest(key, probeBytes(1), probeBytes(1).length).build(),
            body(probeBytes(1), probeBytes(1).length)).eTag();
      } catch (SdkException e) {
        throw failure(key, "conditional-write probe", e);
      }
      Outcome create = probePut(key, probeBytes(2), null, "*");
      Outcome wrongMatch = probePut(key, probeBytes(3), "\"0123456789abcdef0123456789abcdef\"",
          null);
      Outcome rightMatch = probePut(key, probeBytes(4), etag, null);
      boolean honoured = create == Outcome.REFUSED && wrongMatch == Outcome.REFUSED
          && rightMatch == Outcome.WRITTEN;
      if (honoured) {
        LOG.info(describe() + ": the S3 service honours conditional writes (If-None-Match, "
            + "If-Match); compare-and-set of aliases uses them");
      } else {
        LOG.warning(describe() + ": the S3 service does not honour conditional writes "
            + "(If-None-Match: * over an existing object: " + create + "; If-Match with a wrong "
            + "ETag: " + wrongMatch + "; with the right one: " + rightMatch + "). Compare-and-set "
            + "of aliases falls back to read-compare-write under a lock in this process: it is "
            + "atomic only among this process's writers, so let one process write aliases, or "
            + "use a service with conditional writes (AWS S3 has them)");
      }
      return honoured;
    } finally {
      try {
        s3.deleteObject(r -> r.bucket(bucket).key(key));
      } catch (SdkException e) {
        LOG.log(Level.FINE, "could not delete the probe object " + uri(key), e);
      }
    }
  }

  private static byte[] probeBytes(int n) {
    return ("mfserve conditional-write probe " + n + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  private Outcome probePut(String key, byte[] bytes, String ifMatch, String ifNoneMatch)
      throws IOException {
    try {
      s3.putObject(putRequest(key, bytes, bytes.length).ifMatch(ifMatch).ifNoneMatch(ifNoneMatch)
          .build(), body(bytes, bytes.length));
      return Outcome.WRITTEN;
    } catch (SdkException e) {
      if (e instanceof AwsServiceException service) {
        int status = service.statusCode();
        if (status == 412 || status == 409) {
          return Outcome.REFUSED;
        }
        if (status == 400 || status == 501) {
          return Outcome.NOT_UNDERSTOOD; // e.g. NotImplemented, or an unknown header refused
        }
      }
      throw failure(key, "conditional-write probe", e);
    }
  }

  // ---------------------------------------------------------------------------------------
  // errors

  private static boolean isNoSuchKey(SdkException e) {
    if (!(e instanceof AwsServiceException service) || service.statusCode() != 404) {
      return false;
    }
    String code = service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorCode();
    // HEAD answers have no body, so no code: a 404 there is the key's.
    return code == null || code.isEmpty() || code.equals("NoSuchKey") || code.equals("NotFound");
  }

  private static String status(SdkException e) {
    if (e instanceof AwsServiceException service) {
      String code = service.awsErrorDetails() == null ? null
          : service.awsErrorDetails().errorCode();
      return service.statusCode() + (code == null || code.isEmpty() ? "" : " " + code);
    }
    return "no response";
  }

  /** An IOException naming the object, the operation, and the cause in words. */
  private IOException failure(String key, String operation, SdkException e) {
    String reason;
    if (e instanceof AwsServiceException service) {
      int status = service.statusCode();
      String code = service.awsErrorDetails() == null ? null
          : service.awsErrorDetails().errorCode();
      String words;
      if (status == 403) {
        words = "access denied";
      } else if ("NoSuchBucket".equals(code)) {
        words = "no such bucket";
      } else if (status == 404) {
        words = "not found";
      } else if (service.awsErrorDetails() != null
          && service.awsErrorDetails().errorMessage() != null) {
        words = service.awsErrorDetails().errorMessage();
      } else {
        words = "refused";
      }
      reason = words + " (" + status(e) + ")";
    } else {
      reason = e.getMessage();
    }
    return new IOException(uri(key) + ": " + operation + ": " + reason, e);
  }

  @Override
  public void close() throws IOException {
    try {
      s3.close();
    } catch (SdkException e) {
      throw new IOException(describe() + ": closing the S3 client: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return describe();
  }
}
