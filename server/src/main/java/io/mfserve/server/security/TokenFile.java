package io.mfserve.server.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * The bearer tokens the server accepts, read from a file of SHA-256 hashes and re-read when the
 * file changes.
 *
 * <p>The format, one token per line: {@code <sha256 hex> read|write [name]}; blank lines and
 * lines starting with {@code #} are ignored. Make a hash with {@code printf %s TOKEN | sha256sum}.
 * Only hashes are stored, so the file is no secret worth stealing; tokens are never logged (the
 * optional name is what log lines show).
 *
 * <p>{@link #lookup} hashes the presented token and compares it with every stored hash with
 * {@link MessageDigest#isEqual} (constant time), without stopping at the first match. The file's
 * modification time and size are checked at most every {@code recheck}; a file that fails to
 * parse leaves the previous tokens in force (and is logged), so a half-written file during an
 * update does not lock everyone out. Thread-safe.
 */
public final class TokenFile {
  private static final Logger LOG = Logger.getLogger(TokenFile.class.getName());

  /** What a token may do. */
  public enum Role {
    /** Queries and listings. */
    READ,
    /** Everything, including fits, uploads, deletes, aliases and imports. */
    WRITE
  }

  /** One line of the file. */
  record Entry(byte[] hash, Role role, String name) { }

  private final Path path;
  private final long recheckNanos;
  private volatile List<Entry> entries;
  private volatile FileTime seen;
  private volatile long seenSize;
  private volatile long nextCheck;

  private TokenFile(Path path, long recheckNanos) {
    this.path = path;
    this.recheckNanos = recheckNanos;
  }

  /**
   * Reads the file now, failing on any error (at start-up a bad file is a usage error).
   *
   * @param path the token file
   * @param recheckMillis how often, at most, its modification time is looked at again
   * @throws IOException if it cannot be read
   * @throws IllegalArgumentException naming the line that is malformed
   */
  public static TokenFile load(Path path, long recheckMillis) throws IOException {
    TokenFile f = new TokenFile(path, Math.max(0, recheckMillis) * 1_000_000L);
    f.seen = Files.getLastModifiedTime(path);
    f.seenSize = Files.size(path);
    f.entries = parse(Files.readAllLines(path, StandardCharsets.UTF_8), path);
    f.nextCheck = System.nanoTime() + f.recheckNanos;
    LOG.info(() -> "auth tokens: " + f.entries.size() + " from " + path);
    return f;
  }

  static List<Entry> parse(List<String> lines, Path path) {
    List<Entry> out = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\\s+", 3);
      String where = path + " line " + (i + 1);
      if (f.length < 2) {
        throw new IllegalArgumentException(where + ": expected '<sha256 hex> read|write [name]'");
      }
      if (f[0].length() != 64) {
        throw new IllegalArgumentException(where + ": the hash must be 64 hex digits (SHA-256;"
            + " make it with: printf %s TOKEN | sha256sum)");
      }
      byte[] hash;
      try {
        hash = hex.parseHex(f[0].toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": the hash is not hexadecimal");
      }
      Role role = switch (f[1].toLowerCase(Locale.ROOT)) {
        case "read" -> Role.READ;
        case "write" -> Role.WRITE;
        default -> throw new IllegalArgumentException(where + ": the role must be read or write,"
            + " got '" + f[1] + "'");
      };
      out.add(new Entry(hash, role, f.length > 2 ? f[2] : "line " + (i + 1)));
    }
    return List.copyOf(out);
  }

  /**
   * Returns the role of {@code token}, or {@code null} if the file does not hold its hash.
   * Re-reads the file first if it changed and {@code recheck} has passed.
   */
  public Role lookup(String token) {
    Entry e = find(token);
    return e == null ? null : e.role();
  }

  /** The entry whose hash matches {@code token}, or {@code null}. */
  Entry find(String token) {
    maybeReload();
    byte[] hash = sha256(token);
    Entry found = null;
    for (Entry e : entries) {
      // No early exit: the time taken does not depend on which entry (if any) matched.
      if (MessageDigest.isEqual(e.hash(), hash) && found == null) {
        found = e;
      }
    }
    return found;
  }

  /** The number of tokens in force. */
  public int size() {
    maybeReload();
    return entries.size();
  }

  private void maybeReload() {
    long now = System.nanoTime();
    if (now - nextCheck < 0) {
      return;
    }
    synchronized (this) {
      if (now - nextCheck < 0) {
        return;
      }
      nextCheck = now + recheckNanos;
      try {
        FileTime t = Files.getLastModifiedTime(path);
        long size = Files.size(path);
        if (t.equals(seen) && size == seenSize) {
          return;
        }
        List<Entry> fresh = parse(Files.readAllLines(path, StandardCharsets.UTF_8), path);
        entries = fresh;
        seen = t;
        seenSize = size;
        LOG.info(() -> "auth tokens: re-read " + path + ", " + fresh.size() + " token(s)");
      } catch (IOException | RuntimeException e) {
        LOG.warning("auth tokens: keeping the previous tokens; cannot re-read " + path + ": "
            + e.getMessage());
      }
    }
  }

  static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
