package io.mfserve.server.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileObjectStore#list} while another process writes the same directory: files appear
 * and vanish (a temporary file renamed into place, an object deleted) between the directory
 * read and the stat of each entry, which must leave them out of the listing, not fail it.
 */
class FileObjectStoreListTest {
  @TempDir
  Path dir;

  @Test
  void list_filesVanishingMidWalk_listsTheRestWithoutFailing() throws Exception {
    FileObjectStore store = new FileObjectStore(dir);
    store.write("models/stable.mfsnap", out -> out.write(1));
    Path models = dir.resolve("models");
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> writerFailure = new AtomicReference<>();
    // Another replica: temporary files renamed over objects, and objects deleted, as fast as
    // it can (no fsync), so that a listing keeps meeting names that are already gone.
    Thread writer = new Thread(() -> {
      try {
        for (int i = 0; !stop.get(); i++) {
          Path tmp = models.resolve(".tmp-" + i);
          Files.write(tmp, new byte[] {1});
          Path target = models.resolve("m" + (i % 20) + ".mfsnap");
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE,
              StandardCopyOption.REPLACE_EXISTING);
          if (i % 3 == 0) {
            Files.deleteIfExists(target);
          }
        }
      } catch (Throwable t) {
        writerFailure.set(t);
      }
    });
    writer.start();
    try {
      long end = System.nanoTime() + 1_500_000_000L;
      int lists = 0;
      while (System.nanoTime() < end) {
        List<ObjectStore.ObjectInfo> all = store.list("models/");
        assertTrue(all.stream().anyMatch(o -> o.name().equals("models/stable.mfsnap")));
        assertTrue(all.stream().noneMatch(o -> o.name().contains(".tmp-")));
        lists++;
      }
      assertTrue(lists > 10, "lists: " + lists);
    } finally {
      stop.set(true);
      writer.join();
    }
    assertEquals(null, writerFailure.get());
  }
}
