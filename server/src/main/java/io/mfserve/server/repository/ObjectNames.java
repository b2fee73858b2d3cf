package io.mfserve.server.repository;

/** Checks object names, so that no name reaches outside a store's directory or prefix. */
public final class ObjectNames {
  private ObjectNames() { }

  /**
   * Returns {@code name} if it is a safe relative name: '/'-separated segments of
   * {@code [a-z0-9._~=-]}, none empty, none "." or "..", none starting with '.', at most
   * 1024 characters in all.
   *
   * @throws IllegalArgumentException otherwise
   */
  public static String check(String name) {
    if (name == null || name.isEmpty() || name.length() > 1024) {
      throw new IllegalArgumentException("bad object name: " + name);
    }
    for (String segment : name.split("/", -1)) {
      if (segment.isEmpty() || segment.charAt(0) == '.') {
        throw new IllegalArgumentException("bad object name: " + name);
      }
      for (int i = 0; i < segment.length(); i++) {
        char c = segment.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
            || c == '~' || c == '=' || c == '-';
        if (!ok) {
          throw new IllegalArgumentException("bad object name: " + name);
        }
      }
    }
    return name;
  }
}
