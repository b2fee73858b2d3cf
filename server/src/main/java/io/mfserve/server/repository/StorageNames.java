package io.mfserve.server.repository;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Maps model ids and aliases to object names and back, so that no id can name a path outside
 * the repository and no two ids share a name, even on a case-insensitive file system.
 *
 * <p>Lower-case letters, digits, '_' and '-' stay as they are; every other byte of the UTF-8
 * id (capitals, '.') becomes '=' and two lower-case hex digits. So "Movies.v2" is stored as
 * "=4dovies=2ev2": readable, reversible, never "." or "..", never starting with '.', and
 * without capitals. An encoding longer than {@link #MAX_LENGTH} (an id of many capitals) is
 * stored as '~' and the lower-case hex of the whole id instead, which is at most 2 × 128 + 1
 * characters for the longest id the server accepts.
 */
public final class StorageNames {
  /** The longest readable encoding; longer ones are stored in hex. */
  static final int MAX_LENGTH = 200;

  private StorageNames() { }

  /** Returns the storage name of {@code id}. */
  public static String encode(String id) {
    byte[] bytes = id.getBytes(StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder(bytes.length + 8);
    for (byte x : bytes) {
      char c = (char) (x & 0xff);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
        b.append(c);
      } else {
        b.append('=').append(String.format(Locale.ROOT, "%02x", x & 0xff));
      }
    }
    if (b.length() <= MAX_LENGTH) {
      return b.toString();
    }
    StringBuilder hex = new StringBuilder(1 + 2 * bytes.length).append('~');
    for (byte x : bytes) {
      hex.append(String.format(Locale.ROOT, "%02x", x & 0xff));
    }
    return hex.toString();
  }

  /**
   * Returns the id a storage name stands for.
   *
   * @throws IllegalArgumentException if {@code name} is not one that {@link #encode} makes
   */
  public static String decode(String name) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    if (name.startsWith("~")) {
      if (name.length() % 2 != 1) {
        throw new IllegalArgumentException("bad storage name: " + name);
      }
      for (int i = 1; i < name.length(); i += 2) {
        out.write(hexByte(name, i));
      }
    } else {
      for (int i = 0; i < name.length(); i++) {
        char c = name.charAt(i);
        if (c == '=') {
          out.write(hexByte(name, i + 1));
          i += 2;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
          out.write(c);
        } else {
          throw new IllegalArgumentException("bad storage name: " + name);
        }
      }
    }
    String id = out.toString(StandardCharsets.UTF_8);
    if (!encode(id).equals(name)) {
      throw new IllegalArgumentException("bad storage name: " + name);
    }
    return id;
  }

  private static int hexByte(String s, int at) {
    if (at + 2 > s.length()) {
      throw new IllegalArgumentException("bad storage name: " + s);
    }
    int hi = Character.digit(s.charAt(at), 16);
    int lo = Character.digit(s.charAt(at + 1), 16);
    if (hi < 0 || lo < 0 || Character.isUpperCase(s.charAt(at))
        || Character.isUpperCase(s.charAt(at + 1))) {
      throw new IllegalArgumentException("bad storage name: " + s);
    }
    return hi * 16 + lo;
  }
}
