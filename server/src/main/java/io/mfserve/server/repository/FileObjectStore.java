package io.mfserve.server.repository;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.function.BiConsumer;

/**
 * An {@link ObjectStore} in a local directory or a shared volume (NFS, a Kubernetes
 * ReadWriteMany volume): one file per object.
 *
 * <p>Writes are crash-safe: the bytes go to a temporary file in the same directory (named
 * {@code .tmp-*}, never listed), which is fsynced, renamed over the object's name and followed
 * by an fsync of the directory, so after a crash at any moment the object is either the old
 * file or the whole new one, and once {@link #write} returns it survives a power cut.
 * Temporary files left by a killed process are removed when the store opens.
 *
 * <p>{@link #writeIfVersion} holds an exclusive lock on a lock file beside the object
 * ({@code .lock-NAME}) across read, compare and rename, so it is atomic between processes on
 * one host and on NFS with working locks. The version of a small object is the SHA-256 of its
 * bytes, so no two different contents share one.
 */
public final class FileObjectStore implements ObjectStore {
  private static final String TMP = ".tmp-";
  private static final String LOCK = ".lock-";

  private static final java.util.concurrent.ConcurrentHashMap<Path, Object> MONITORS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final Path root;

  /**
   * Opens (creating if needed) the store in {@code root} and removes temporary files that a
   * killed process left behind. A writer holds an exclusive lock on its temporary file until
   * the file has its final name, so a temporary file whose lock can be taken has no writer any
   * more; one that another replica is writing right now is locked and stays.
   */
  public FileObjectStore(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    Files.createDirectories(this.root);
    List<Path> leftovers = new ArrayList<>();
    walkFiles(this.root, (p, a) -> {
      if (p.getFileName().toString().startsWith(TMP)) {
        leftovers.add(p);
      }
    });
    for (Path p : leftovers) {
      deleteIfAbandoned(p);
    }
  }

  private static void deleteIfAbandoned(Path tmp) throws IOException {
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (java.nio.channels.OverlappingFileLockException e) {
        return; // a writer in this JVM
      }
      if (lock != null) {
        try {
          Files.deleteIfExists(tmp);
        } finally {
          lock.release();
        }
      }
    } catch (NoSuchFileException e) {
      // renamed into place meanwhile
    }
  }

  /**
   * Writes {@code body} to a new locked temporary file in {@code dir}, fsyncs it, and calls
   * {@code publish} with its path while the lock is still held (so no other process's
   * start-up sweep takes it for abandoned); the temporary name is gone afterwards.
   */
  // "try": the FileLock resource is held for the block and never referenced in it.
  @SuppressWarnings("try")
  private static <T> T writeTemporary(Path dir, Body body, Publish<T> publish)
      throws IOException {
    Path tmp = dir.resolve(TMP + UUID.randomUUID());
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE); FileLock lock = ch.lock()) {
      OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
      body.writeTo(out);
      out.flush();
      ch.force(true);
      return publish.from(tmp);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Gives a finished temporary file its final name. */
  @FunctionalInterface
  private interface Publish<T> {
    T from(Path tmp) throws IOException;
  }

  /**
   * Visits every file under {@code dir} with its attributes. An entry that vanishes between
   * the directory read and its stat (another process renaming its temporary file into place,
   * or deleting an object) is skipped: {@code Files.walk} would throw an
   * {@code UncheckedIOException} for it, failing a listing that should simply not show it.
   */
  private static void walkFiles(Path dir, BiConsumer<Path, BasicFileAttributes> visitor)
      throws IOException {
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        visitor.accept(file, attrs);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null && !(e instanceof NoSuchFileException)) {
          throw e;
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }

  @Override
  public String describe() {
    return root.toUri().toString();
  }

  private Path path(String name) {
    Path p = root.resolve(ObjectNames.check(name)).normalize();
    if (!p.startsWith(root)) {
      throw new IllegalArgumentException("object name leaves the store: " + name);
    }
    return p;
  }

  @Override
  public void write(String name, Body body) throws IOException {
    Path target = path(name);
    Path dir = target.getParent();
    Files.createDirectories(dir);
    writeTemporary(dir, body, tmp -> {
      move(tmp, target);
      fsyncDirectory(dir);
      return null;
    });
  }

  @Override
  public boolean create(String name, Body body) throws IOException {
    Path target = path(name);
    Path dir = target.getParent();
    Files.createDirectories(dir);
    if (Files.exists(target)) {
      return false;
    }
    return writeTemporary(dir, body, tmp -> {
      // link(2) creates the name only if it does not exist: atomic, also between hosts on NFS.
      try {
        Files.createLink(target, tmp);
      } catch (FileAlreadyExistsException e) {
        return false;
      } catch (UnsupportedOperationException e) {
        throw new IOException("the file system of " + dir + " cannot make hard links; the"
            + " model store needs a POSIX file system", e);
      }
      fsyncDirectory(dir);
      return true;
    });
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("the file system of " + to.getParent() + " cannot rename"
          + " atomically; the model store needs a POSIX file system", e);
    }
  }

  private static void fsyncDirectory(Path dir) throws IOException {
    // A directory opened for reading can be fsynced on Linux and macOS; that makes the rename
    // itself durable. Other systems refuse, and there the rename is as durable as they allow.
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT)
          .contains("windows")) {
        throw e;
      }
    }
  }

  @Override
  public InputStream open(String name) throws IOException {
    return Files.newInputStream(path(name));
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    List<ObjectInfo> out = new ArrayList<>();
    walkFiles(root, (p, a) -> {
      String name = root.relativize(p).toString().replace('\\', '/');
      String file = p.getFileName().toString();
      if (!name.isEmpty() && name.startsWith(prefix) && !file.startsWith(".")
          && a.isRegularFile()) {
        out.add(new ObjectInfo(name, a.size(), a.lastModifiedTime().toInstant() + "/"
            + a.size() + "/" + a.fileKey()));
      }
    });
    out.sort((x, y) -> x.name().compareTo(y.name()));
    return out;
  }

  @Override
  public void delete(String name) throws IOException {
    Path p = path(name);
    if (Files.deleteIfExists(p)) {
      fsyncDirectory(p.getParent());
    }
  }

  @Override
  public Versioned readSmall(String name) throws IOException {
    try {
      byte[] bytes = Files.readAllBytes(path(name));
      return new Versioned(bytes, sha256(bytes));
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  @Override
  // "try": the FileLock resource is held for the block and never referenced in it.
  @SuppressWarnings("try")
  public boolean writeIfVersion(String name, byte[] bytes, String expectedVersion)
      throws IOException {
    Path target = path(name);
    Files.createDirectories(target.getParent());
    Path lockFile = target.getParent().resolve(LOCK + target.getFileName());
    // A FileLock excludes other processes only; threads of this JVM also take the monitor.
    Object monitor = MONITORS.computeIfAbsent(lockFile, k -> new Object());
    synchronized (monitor) {
      try (FileChannel lockChannel = openLock(lockFile); FileLock lock = lockChannel.lock()) {
        Versioned now = readSmall(name);
        String current = now == null ? null : now.version();
        if (!java.util.Objects.equals(current, expectedVersion)) {
          return false;
        }
        write(name, out -> out.write(bytes));
        return true;
      }
    }
  }

  private static FileChannel openLock(Path lockFile) throws IOException {
    try {
      return FileChannel.open(lockFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (FileAlreadyExistsException e) {
      return FileChannel.open(lockFile, StandardOpenOption.WRITE);
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    // Nothing held open between calls.
  }
}
