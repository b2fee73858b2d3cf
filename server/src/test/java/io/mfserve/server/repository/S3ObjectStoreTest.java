package io.mfserve.server.repository;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mfserve.server.repository.ObjectStore.ObjectInfo;
import io.mfserve.server.repository.ObjectStore.Versioned;
import io.mfserve.server.testing.S3TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@link S3ObjectStore} against a real S3-compatible server on loopback ({@link S3TestServer}:
 * S3Proxy over an in-memory blob store), each test in a bucket of its own.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class S3ObjectStoreTest {
  private static final int MIB = 1 << 20;
  private static final AtomicInteger BUCKETS = new AtomicInteger();

  private static S3TestServer server;
  private static S3Client admin;

  private final List<S3ObjectStore> stores = new ArrayList<>();
  private String bucket;

  @BeforeAll
  static void startServer() throws IOException {
    server = S3TestServer.start();
    // S3Proxy 2.9.0 refuses the SDK's default aws-chunked uploads with trailing checksums.
    admin = S3Client.builder().endpointOverride(server.endpoint()).forcePathStyle(true)
        .region(Region.US_EAST_1).credentialsProvider(server.credentials())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED).build();
  }

  @AfterAll
  static void stopServer() throws IOException {
    if (admin != null) {
      admin.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @BeforeEach
  void createBucket() {
    bucket = "bucket-" + BUCKETS.incrementAndGet();
    server.createBucket(bucket);
  }

  @AfterEach
  void closeStores() throws IOException {
    for (S3ObjectStore store : stores) {
      store.close();
    }
  }

  private S3ObjectStore store(String location) throws IOException {
    return store(location, S3Options.ConditionalWrites.PROBE, S3ObjectStore.DEFAULT_LIST_PAGE_SIZE);
  }

  private S3ObjectStore store(String location, S3Options.ConditionalWrites mode, int pageSize)
      throws IOException {
    S3Options options = S3Options.forEndpoint(server.endpoint()).withConditionalWrites(mode);
    S3ObjectStore store = S3ObjectStore.create(URI.create(location), options, server.credentials(),
        S3ObjectStore.DEFAULT_PART_SIZE, pageSize);
    stores.add(store);
    return store;
  }

  private static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static byte[] readAll(ObjectStore store, String name) throws IOException {
    try (InputStream in = store.open(name)) {
      return in.readAllBytes();
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Writes {@code bytes} in uneven chunks, as a serializer would. */
  private static ObjectStore.Body chunked(byte[] bytes) {
    return out -> {
      int off = 0;
      int step = 1;
      while (off < bytes.length) {
        int n = Math.min(step, bytes.length - off);
        out.write(bytes, off, n);
        off += n;
        step = step * 3 % 1_000_003 + 1;
      }
    };
  }

  private int pendingUploads() {
    return admin.listMultipartUploads(r -> r.bucket(bucket)).uploads().size();
  }

  // ---------------------------------------------------------------------------------------
  // write and read

  @Test
  void write_smallBody_readsBackTheSameBytes() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo");
    byte[] bytes = randomBytes(100_000, 1);

    store.write("models/m1/factors.bin", chunked(bytes));

    assertArrayEquals(bytes, readAll(store, "models/m1/factors.bin"));
    assertNotNull(admin.headObject(r -> r.bucket(bucket).key("repo/models/m1/factors.bin")));
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(value = S3Options.ConditionalWrites.class,
      names = {"NATIVE", "IN_PROCESS"})
  void create_smallAndMultipart_onlyWhenAbsent(S3Options.ConditionalWrites mode)
      throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/create", mode,
        S3ObjectStore.DEFAULT_LIST_PAGE_SIZE);
    byte[] first = randomBytes(1000, 7);
    byte[] big = randomBytes(S3ObjectStore.DEFAULT_PART_SIZE * 2 + 5, 8);
    assertTrue(store.create("models/a.mfsnap", chunked(first)));
    assertFalse(store.create("models/a.mfsnap", chunked(randomBytes(1000, 9))));
    assertArrayEquals(first, readAll(store, "models/a.mfsnap"));
    assertTrue(store.create("models/b.mfsnap", chunked(big)));
    assertFalse(store.create("models/b.mfsnap", chunked(randomBytes(big.length, 10))));
    assertArrayEquals(big, readAll(store, "models/b.mfsnap"));
    assertEquals(0, pendingUploads(), "a refused multipart create leaves no upload behind");
  }

  @Test
  void write_emptyBody_createsEmptyObject() throws IOException {
    S3ObjectStore store = store("s3://" + bucket);

    store.write("empty", out -> { });

    assertArrayEquals(new byte[0], readAll(store, "empty"));
  }

  @Test
  void write_bodyOfSingleBytes_isBufferedAndReadsBack() throws IOException {
    S3ObjectStore store = store("s3://" + bucket);
    byte[] bytes = randomBytes(10_000, 2);

    store.write("bytes", out -> {
      for (byte b : bytes) {
        out.write(b);
      }
      out.close(); // a body that closes the stream does not end the object early
    });

    assertArrayEquals(bytes, readAll(store, "bytes"));
  }

  @Test
  void write_bodyOfExactlyOnePart_isOnePutObject() throws IOException {
    S3ObjectStore store = store("s3://" + bucket);
    byte[] bytes = randomBytes(S3ObjectStore.DEFAULT_PART_SIZE, 3);
    int before = server.multipartUploadsCompleted();

    store.write("one-part", chunked(bytes));

    assertEquals(before, server.multipartUploadsCompleted());
    assertArrayEquals(bytes, readAll(store, "one-part"));
  }

  @Test
  void write_bodyLargerThanAPart_isMultipartUploadAndReadsBack() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo");
    byte[] bytes = randomBytes(20 * MIB + 12_345, 4);
    int before = server.multipartUploadsCompleted();

    store.write("models/big/factors.bin", chunked(bytes));

    assertEquals(before + 1, server.multipartUploadsCompleted());
    String etag = store.list("models/big/").get(0).version();
    assertTrue(etag.replace("\"", "").endsWith("-3"), "8 + 8 + 4 MiB parts, ETag " + etag);
    assertArrayEquals(bytes, readAll(store, "models/big/factors.bin"));
    assertEquals(0, pendingUploads());
  }

  @Test
  void write_existingName_replacesTheObject() throws IOException {
    S3ObjectStore store = store("s3://" + bucket);
    store.write("aliases/prod", out -> out.write(utf8("first")));
    String firstVersion = store.list("aliases/").get(0).version();

    store.write("aliases/prod", out -> out.write(utf8("second, longer")));

    assertArrayEquals(utf8("second, longer"), readAll(store, "aliases/prod"));
    assertNotEquals(firstVersion, store.list("aliases/").get(0).version());
  }

  @Test
  void write_smallBodyThrows_leavesNoObject() throws IOException {
    S3ObjectStore store = store("s3://" + bucket);

    IOException thrown = assertThrows(IOException.class, () -> store.write("x", out -> {
      out.write(new byte[1000]);
      throw new IOException("serializer failed");
    }));

    assertEquals("serializer failed", thrown.getMessage());
    assertThrows(NoSuchFileException.class, () -> store.open("x"));
  }

  @Test
  void write_bodyThrowsAfterSomeParts_leavesOldObjectAndNoPendingUpload() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo");
    store.write("models/m/factors.bin", out -> out.write(utf8("old")));
    byte[] chunk = randomBytes(MIB, 5);

    assertThrows(IllegalStateException.class, () -> store.write("models/m/factors.bin", out -> {
      for (int i = 0; i < 20; i++) { // two parts sent, a third buffered
        out.write(chunk);
      }
      throw new IllegalStateException("solver crashed");
    }));

    assertArrayEquals(utf8("old"), readAll(store, "models/m/factors.bin"));
    assertEquals(0, pendingUploads());
  }

  @Test
  void open_partlyReadThenClosed_doesNotDisturbTheStore() throws IOException {
    S3ObjectStore store = store("s3://" + bucket);
    byte[] bytes = randomBytes(3 * MIB, 6);
    store.write("big", chunked(bytes));

    try (InputStream in = store.open("big")) {
      assertEquals(bytes[0], (byte) in.read());
    }

    assertArrayEquals(bytes, readAll(store, "big"));
  }

  @Test
  void open_absentObject_throwsNoSuchFile() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo");

    NoSuchFileException thrown =
        assertThrows(NoSuchFileException.class, () -> store.open("models/none"));

    assertEquals("s3://" + bucket + "/repo/models/none", thrown.getMessage());
  }

  // ---------------------------------------------------------------------------------------
  // list and delete

  @Test
  void list_prefix_returnsRelativeNamesInOrderWithSizesAndVersions() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/a/repo");
    store.write("models/m2/meta.json", out -> out.write(utf8("{}")));
    store.write("models/m1/meta.json", out -> out.write(utf8("{\"a\":1}")));
    store.write("aliases/prod", out -> out.write(utf8("m1")));
    S3ObjectStore sibling = store("s3://" + bucket + "/a/repo2");
    sibling.write("models/m3/meta.json", out -> out.write(utf8("{}")));

    List<ObjectInfo> models = store.list("models/");
    List<ObjectInfo> all = store.list("");

    assertEquals(List.of("models/m1/meta.json", "models/m2/meta.json"),
        models.stream().map(ObjectInfo::name).toList());
    assertEquals(7, models.get(0).size());
    assertEquals(store.readSmall("models/m1/meta.json").version(), models.get(0).version());
    assertEquals(List.of("aliases/prod", "models/m1/meta.json", "models/m2/meta.json"),
        all.stream().map(ObjectInfo::name).toList());
    assertEquals(List.of("models/m1/meta.json", "models/m2/meta.json"),
        store.list("models/m").stream().map(ObjectInfo::name).toList());
  }

  @Test
  void list_moreObjectsThanAPage_followsPagination() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo", S3Options.ConditionalWrites.PROBE, 2);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      String name = "models/m" + i;
      store.write(name, out -> out.write(utf8(name)));
      names.add(name);
    }

    assertEquals(names, store.list("models/").stream().map(ObjectInfo::name).toList());
  }

  @Test
  void list_keysThatAreNotNames_areLeftOut() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo");
    store.write("models/ok", out -> out.write(1));
    admin.putObject(r -> r.bucket(bucket).key("repo/models/Upper.bin"),
        software.amazon.awssdk.core.sync.RequestBody.fromString("x"));
    admin.putObject(r -> r.bucket(bucket).key("repo/models/dir/"),
        software.amazon.awssdk.core.sync.RequestBody.empty());

    assertEquals(List.of("models/ok"),
        store.list("models/").stream().map(ObjectInfo::name).toList());
  }

  @Test
  void delete_existingObject_removesIt() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo");
    store.write("models/m1", out -> out.write(1));

    store.delete("models/m1");

    assertThrows(NoSuchFileException.class, () -> store.open("models/m1"));
    assertTrue(store.list("").isEmpty());
  }

  @Test
  void delete_absentObject_isNoError() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo");

    store.delete("models/never");

    assertTrue(store.list("").isEmpty());
  }

  // ---------------------------------------------------------------------------------------
  // names and locations

  @Test
  void names_outsideThePrefix_areRefused() throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo");

    for (String bad : List.of("../x", "/x", "x/", "a//b", "a/../b", ".hidden", "a/./b", "A",
        "a b", "a\\b")) {
      assertThrows(IllegalArgumentException.class, () -> store.write(bad, out -> { }), bad);
      assertThrows(IllegalArgumentException.class, () -> store.open(bad), bad);
      assertThrows(IllegalArgumentException.class, () -> store.delete(bad), bad);
      assertThrows(IllegalArgumentException.class, () -> store.readSmall(bad), bad);
      assertThrows(IllegalArgumentException.class,
          () -> store.writeIfVersion(bad, new byte[0], null), bad);
    }
    assertThrows(IllegalArgumentException.class, () -> store.list("../"));
    assertThrows(IllegalArgumentException.class, () -> store.list("/"));
    assertTrue(admin.listObjectsV2(r -> r.bucket(bucket)).contents().isEmpty());
  }

  @Test
  void create_locations_areParsedOrRefused() throws IOException {
    assertEquals("s3://" + bucket, store("s3://" + bucket).describe());
    assertEquals("s3://" + bucket, store("s3://" + bucket + "/").describe());
    assertEquals("s3://" + bucket + "/a/b", store("s3://" + bucket + "//a/b/").describe());

    for (String bad : List.of("file:///tmp/x", "s3:///prefix", "s3://b/a/../c", "s3://b/./c",
        "s3://b/a//c", "s3://b/p?x=1", "s3://user@b/p", "s3://b:9000/p")) {
      assertThrows(IllegalArgumentException.class, () -> store(bad), bad);
    }
  }

  @Test
  void options_badEndpointOrRegion_areRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> S3Options.forEndpoint(URI.create("ftp://127.0.0.1:9000")));
    assertThrows(IllegalArgumentException.class,
        () -> S3Options.forEndpoint(URI.create("http:relative")));
    assertThrows(IllegalArgumentException.class,
        () -> new S3Options(server.endpoint(), true, " "));
    assertThrows(NullPointerException.class,
        () -> new S3Options(server.endpoint(), true, null, null));
  }

  @Test
  void create_explicitRegion_isUsedForSigning() throws IOException {
    S3ObjectStore store = S3ObjectStore.create(URI.create("s3://" + bucket + "/repo"),
        new S3Options(server.endpoint(), true, "eu-central-1"), server.credentials());
    stores.add(store);

    store.write("x", out -> out.write(1));

    assertArrayEquals(new byte[] {1}, readAll(store, "x"));
  }

  @Test
  void create_defaultCredentialChain_findsSystemProperties() throws IOException {
    String oldId = System.getProperty("aws.accessKeyId");
    String oldSecret = System.getProperty("aws.secretAccessKey");
    System.setProperty("aws.accessKeyId", S3TestServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", S3TestServer.SECRET_KEY);
    try (S3ObjectStore store = S3ObjectStore.create(URI.create("s3://" + bucket + "/repo"),
        S3Options.forEndpoint(server.endpoint()))) {
      store.write("x", out -> out.write(2));

      assertArrayEquals(new byte[] {2}, readAll(store, "x"));
    } finally {
      restore("aws.accessKeyId", oldId);
      restore("aws.secretAccessKey", oldSecret);
    }
  }

  private static void restore(String property, String value) {
    if (value == null) {
      System.clearProperty(property);
    } else {
      System.setProperty(property, value);
    }
  }

  // ---------------------------------------------------------------------------------------
  // errors

  @Test
  void write_wrongCredentials_throwsAccessDeniedNamingTheObject() throws IOException {
    S3ObjectStore store = S3ObjectStore.create(URI.create("s3://" + bucket + "/repo"),
        S3Options.forEndpoint(server.endpoint()),
        StaticCredentialsProvider.create(AwsBasicCredentials.create("someone", "wrong")));
    stores.add(store);

    IOException thrown =
        assertThrows(IOException.class, () -> store.write("models/x", out -> out.write(1)));

    assertTrue(thrown.getMessage().startsWith("s3://" + bucket + "/repo/models/x: write: access "
        + "denied (403"), thrown.getMessage());
  }

  @Test
  void open_missingBucket_throwsNoSuchBucketNotNoSuchFile() throws IOException {
    S3ObjectStore store = store("s3://no-such-bucket/repo");

    IOException thrown = assertThrows(IOException.class, () -> store.open("models/x"));

    assertFalse(thrown instanceof NoSuchFileException);
    assertTrue(thrown.getMessage().contains("no such bucket (404 NoSuchBucket)"),
        thrown.getMessage());
  }

  @Test
  void write_unreachableEndpoint_throwsIoExceptionNamingTheObject() throws IOException {
    S3ObjectStore store = S3ObjectStore.create(URI.create("s3://" + bucket + "/repo"),
        S3Options.forEndpoint(URI.create("http://127.0.0.1:1")), server.credentials());
    stores.add(store);

    IOException thrown =
        assertThrows(IOException.class, () -> store.write("models/x", out -> out.write(1)));

    assertTrue(thrown.getMessage().startsWith("s3://" + bucket + "/repo/models/x: write: "),
        thrown.getMessage());
  }

  // ---------------------------------------------------------------------------------------
  // compare-and-set

  @Test
  void readSmall_absentObject_returnsNull() throws IOException {
    assertNull(store("s3://" + bucket).readSmall("aliases/none"));
  }

  @Test
  void writeIfVersion_probe_findsTheServersConditionalWritesAndLeavesNoProbeObject()
      throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo");

    assertTrue(store.writeIfVersion("aliases/prod", utf8("m1"), null));

    assertTrue(store.usesNativeConditionalWrites());
    assertEquals(List.of("repo/aliases/prod"),
        admin.listObjectsV2(r -> r.bucket(bucket)).contents().stream().map(o -> o.key()).toList());
  }

  @ParameterizedTest
  @EnumSource(value = S3Options.ConditionalWrites.class, names = {"NATIVE", "IN_PROCESS"})
  void writeIfVersion_createReplaceAndStale_behaveAsCompareAndSet(
      S3Options.ConditionalWrites mode) throws IOException {
    S3ObjectStore store = store("s3://" + bucket + "/repo", mode, 1000);

    assertTrue(store.writeIfVersion("aliases/prod", utf8("m1"), null), "create if absent");
    assertFalse(store.writeIfVersion("aliases/prod", utf8("m9"), null), "create when present");
    Versioned v1 = store.readSmall("aliases/prod");
    assertArrayEquals(utf8("m1"), v1.bytes());

    assertTrue(store.writeIfVersion("aliases/prod", utf8("m2"), v1.version()), "replace");
    Versioned v2 = store.readSmall("aliases/prod");
    assertArrayEquals(utf8("m2"), v2.bytes());
    assertNotEquals(v1.version(), v2.version());

    assertFalse(store.writeIfVersion("aliases/prod", utf8("m3"), v1.version()), "stale version");
    assertArrayEquals(utf8("m2"), store.readSmall("aliases/prod").bytes());

    assertEquals(v2.version(), store.list("aliases/").get(0).version(), "list's version tag");
    store.delete("aliases/prod");
    assertFalse(store.writeIfVersion("aliases/prod", utf8("m4"), v2.version()), "deleted");
    assertNull(store.readSmall("aliases/prod"));
  }

  @Test
  void writeIfVersion_versionFromPlainWrite_replaces() throws IOException {
    S3ObjectStore store = store("s3://" + bucket);
    store.write("aliases/prod", out -> out.write(utf8("m1")));
    String version = store.list("aliases/").get(0).version();

    assertTrue(store.writeIfVersion("aliases/prod", utf8("m2"), version));
  }

  /**
   * Two stores, as two replicas would be, each with two threads, increment one counter by
   * read and compare-and-set until each increment lands: no increment may be lost.
   */
  @ParameterizedTest
  @EnumSource(value = S3Options.ConditionalWrites.class, names = {"NATIVE", "IN_PROCESS"})
  void writeIfVersion_racingStores_loseNoUpdate(S3Options.ConditionalWrites mode)
      throws Exception {
    S3ObjectStore first = store("s3://" + bucket + "/repo", mode, 1000);
    S3ObjectStore second = store("s3://" + bucket + "/repo", mode, 1000);
    assertTrue(first.writeIfVersion("counter", utf8("0"), null));
    int threads = 4;
    int increments = 15;
    AtomicInteger refusals = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Void>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        S3ObjectStore store = t % 2 == 0 ? first : second;
        Callable<Void> worker = () -> {
          for (int i = 0; i < increments; i++) {
            while (true) {
              Versioned current = store.readSmall("counter");
              int value = Integer.parseInt(new String(current.bytes(), StandardCharsets.UTF_8));
              if (store.writeIfVersion("counter", utf8(Integer.toString(value + 1)),
                  current.version())) {
                break;
              }
              refusals.incrementAndGet();
            }
          }
          return null;
        };
        done.add(pool.submit(worker));
      }
      for (Future<Void> f : done) {
        f.get(50, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertEquals(Integer.toString(threads * increments),
        new String(first.readSmall("counter").bytes(), StandardCharsets.UTF_8),
        "refused attempts: " + refusals.get());
  }
}
