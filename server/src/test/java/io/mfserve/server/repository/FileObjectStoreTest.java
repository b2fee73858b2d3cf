package io.mfserve.server.repository;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileObjectStoreTest {
  @TempDir
  Path dir;

  @Test
  void write_readListDelete_roundTrip() throws IOException {
    FileObjectStore s = new FileObjectStore(dir);
    byte[] big = new byte[3 << 20];
    new java.util.Random(1).nextBytes(big);
    s.write("models/a.mfsnap", out -> out.write(big));
    s.write("models/b.mfsnap", out -> out.write(1));
    try (InputStream in = s.open("models/a.mfsnap")) {
      assertArrayEquals(big, in.readAllBytes());
    }
    List<ObjectStore.ObjectInfo> list = s.list("models/");
    assertEquals(List.of("models/a.mfsnap", "models/b.mfsnap"),
        list.stream().map(ObjectStore.ObjectInfo::name).toList());
    assertEquals(big.length, list.get(0).size());
    s.delete("models/a.mfsnap");
    s.delete("models/a.mfsnap");
    assertThrows(NoSuchFileException.class, () -> s.open("models/a.mfsnap"));
  }

  @Test
  void write_bodyThatFails_leavesOldObjectAndNoTemporaryFile() throws IOException {
    FileObjectStore s = new FileObjectStore(dir);
    s.write("x", out -> out.write("old".getBytes(StandardCharsets.UTF_8)));
    assertThrows(IOException.class, () -> s.write("x", out -> {
      out.write("new and".getBytes(StandardCharsets.UTF_8));
      throw new IOException("disk full");
    }));
    assertEquals("old", new String(s.readSmall("x").bytes(), StandardCharsets.UTF_8));
    try (var files = Files.list(dir)) {
      assertEquals(List.of("x"), files.map(p -> p.getFileName().toString())
          .filter(n -> !n.startsWith(".lock-")).toList());
    }
  }

  @Test
  void open_abandonedTemporaryFiles_areRemoved_onesALiveWriterHoldsStay() throws Exception {
    Files.createDirectories(dir.resolve("models"));
    Files.write(dir.resolve("models/.tmp-dead"), new byte[10]);
    // A writer in another process holds its temporary file's (POSIX, fcntl) lock until it has
    // renamed it; python3's fcntl.lockf takes the same kind of lock as FileChannel.lock.
    Path live = dir.resolve("models/.tmp-live");
    Process holder = new ProcessBuilder("python3", "-c", "import fcntl, sys, time\n"
        + "f = open(sys.argv[1], 'a')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)"
        + "\ntime.sleep(30)", live.toString()).redirectErrorStream(true).start();
    try {
      assertEquals("locked", new java.io.BufferedReader(new java.io.InputStreamReader(
          holder.getInputStream(), StandardCharsets.UTF_8)).readLine());
      FileObjectStore s = new FileObjectStore(dir);
      assertFalse(Files.exists(dir.resolve("models/.tmp-dead")));
      assertTrue(Files.exists(dir.resolve("models/.tmp-live")), "another writer's file");
      assertTrue(s.list("").isEmpty());
    } finally {
      holder.destroyForcibly().waitFor();
    }
  }

  @Test
  void writeIfVersion_staleVersion_isRefused() throws IOException {
    FileObjectStore s = new FileObjectStore(dir);
    assertNull(s.readSmall("aliases.tsv"));
    assertTrue(s.writeIfVersion("aliases.tsv", new byte[] {1}, null));
    assertFalse(s.writeIfVersion("aliases.tsv", new byte[] {2}, null));
    String v1 = s.readSmall("aliases.tsv").version();
    assertTrue(s.writeIfVersion("aliases.tsv", new byte[] {2}, v1));
    assertFalse(s.writeIfVersion("aliases.tsv", new byte[] {3}, v1));
    assertArrayEquals(new byte[] {2}, s.readSmall("aliases.tsv").bytes());
  }

  @Test
  void writeIfVersion_concurrentIncrements_loseNone() throws Exception {
    FileObjectStore a = new FileObjectStore(dir);
    FileObjectStore b = new FileObjectStore(dir);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        FileObjectStore s = t % 2 == 0 ? a : b;
        fs.add(pool.submit(() -> {
          for (int i = 0; i < 50; i++) {
            while (true) {
              ObjectStore.Versioned v = s.readSmall("counter");
              int n = v == null ? 0 : Integer.parseInt(new String(v.bytes(),
                  StandardCharsets.UTF_8));
              if (s.writeIfVersion("counter", Integer.toString(n + 1)
                  .getBytes(StandardCharsets.UTF_8), v == null ? null : v.version())) {
                break;
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals("200", new String(a.readSmall("counter").bytes(), StandardCharsets.UTF_8));
  }
}
