package io.mfserve.server.grpc;

import io.mfserve.server.model.store.ModelStore;
import io.mfserve.server.repository.RepositoryConfig;
import io.mfserve.server.testing.S3TestServer;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Every {@link RepositoryRpcTest} again, with the replicas sharing a bucket of a real
 * S3-compatible server (S3Proxy on loopback, storing its blobs under the test's directory, so
 * that the damaged-snapshot test can still flip a byte of one).
 */
class S3RepositoryRpcTest extends RepositoryRpcTest {
  private S3TestServer s3;

  @BeforeEach
  void startS3() throws IOException {
    s3 = S3TestServer.builder().directory(dir.resolve("s3")).start();
    s3.createBucket("models");
    // The server's SDK reads credentials from its default chain; system properties are in it.
    System.setProperty("aws.accessKeyId", S3TestServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", S3TestServer.SECRET_KEY);
  }

  @AfterEach
  void stopS3() throws IOException {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    if (s3 != null) {
      s3.close();
    }
  }

  @Override
  RepositoryConfig repository() {
    return new RepositoryConfig("s3://models/replicas", s3.endpoint().toString(), true, null,
        ModelStore.Preload.ALL, Duration.ofSeconds(10));
  }
}
