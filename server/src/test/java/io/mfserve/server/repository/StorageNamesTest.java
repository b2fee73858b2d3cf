package io.mfserve.server.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StorageNamesTest {
  @Test
  void encode_dotsAndCapitals_areEscapedAndReversible() {
    for (String id : new String[] {"..", ".", "a", "Movies.v2", "prod", "A-b_c.D", "x".repeat(128),
        "A".repeat(128), "..".repeat(64)}) {
      String name = StorageNames.encode(id);
      assertEquals(id, StorageNames.decode(name), id);
      assertFalse(name.startsWith("."), name);
      assertFalse(name.contains("/") || name.contains(".."), name);
      assertEquals(name, name.toLowerCase(Locale.ROOT), "no capitals: " + name);
      assertTrue(name.length() <= 257, name);
      ObjectNames.check(SnapshotRepository.objectName(id));
    }
  }

  @Test
  void encode_idsDifferingInCaseOnly_getDifferentNames() {
    Set<String> names = new HashSet<>();
    for (String id : new String[] {"model", "Model", "MODEL", "mOdel"}) {
      assertTrue(names.add(StorageNames.encode(id)));
    }
    assertNotEquals(StorageNames.encode("a.b"), StorageNames.encode("a=2eb"));
  }

  @Test
  void decode_foreignNames_areRefused() {
    for (String bad : new String[] {"Abc", "a.b", "=zz", "=4", "~abc", "a/b", "=41", "a=2E"}) {
      if (bad.equals("=41")) {
        assertEquals("A", StorageNames.decode(bad));
        continue;
      }
      assertThrows(IllegalArgumentException.class, () -> StorageNames.decode(bad), bad);
    }
  }

  @Test
  void objectNames_traversal_isRefused() {
    for (String bad : new String[] {"../x", "a/../b", "/abs", "a//b", ".hidden", "A", "a b", ""}) {
      assertThrows(IllegalArgumentException.class, () -> ObjectNames.check(bad), bad);
    }
  }
}
