package io.mfserve.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A train and a test file of {@code user<TAB>item<TAB>rating[<TAB>…]} lines (MovieLens and the
 * shared synthetic sets), with user and item ids mapped to dense positions by their first
 * appearance in the training file. Test lines naming an id unseen in training are dropped (and
 * counted), since no factor model can score them.
 */
final class Ratings {
  final int users;
  final int items;
  final int[] trainUser;
  final int[] trainItem;
  final float[] trainValue;
  final int[] testUser;
  final int[] testItem;
  final float[] testValue;
  final int droppedTest;
  /** Raw id of each dense user and item position, to map Spark's factors back. */
  final int[] userIds;
  final int[] itemIds;

  private Ratings(int users, int items, int[] trainUser, int[] trainItem, float[] trainValue,
      int[] testUser, int[] testItem, float[] testValue, int droppedTest, int[] userIds,
      int[] itemIds) {
    this.users = users;
    this.items = items;
    this.trainUser = trainUser;
    this.trainItem = trainItem;
    this.trainValue = trainValue;
    this.testUser = testUser;
    this.testItem = testItem;
    this.testValue = testValue;
    this.droppedTest = droppedTest;
    this.userIds = userIds;
    this.itemIds = itemIds;
  }

  /** Reads both files. */
  static Ratings load(Path train, Path test) throws IOException {
    Map<Integer, Integer> userIndex = new HashMap<>();
    Map<Integer, Integer> itemIndex = new HashMap<>();
    Triplets tr = read(train);
    int[] tu = new int[tr.size()];
    int[] ti = new int[tr.size()];
    for (int n = 0; n < tr.size(); n++) {
      tu[n] = userIndex.computeIfAbsent(tr.row(n), x -> userIndex.size());
      ti[n] = itemIndex.computeIfAbsent(tr.col(n), x -> itemIndex.size());
    }
    Triplets te = read(test);
    int[] su = new int[te.size()];
    int[] si = new int[te.size()];
    float[] sv = new float[te.size()];
    int kept = 0;
    for (int n = 0; n < te.size(); n++) {
      Integer u = userIndex.get(te.row(n));
      Integer i = itemIndex.get(te.col(n));
      if (u != null && i != null) {
        su[kept] = u;
        si[kept] = i;
        sv[kept++] = te.value(n);
      }
    }
    int[] userIds = new int[userIndex.size()];
    userIndex.forEach((id, pos) -> userIds[pos] = id);
    int[] itemIds = new int[itemIndex.size()];
    itemIndex.forEach((id, pos) -> itemIds[pos] = id);
    return new Ratings(userIndex.size(), itemIndex.size(), tu, ti,
        tr.values(), Arrays.copyOf(su, kept), Arrays.copyOf(si, kept),
        Arrays.copyOf(sv, kept), te.size() - kept, userIds, itemIds);
  }

  private static Triplets read(Path file) throws IOException {
    Triplets t = new Triplets();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          continue;
        }
        int a = line.indexOf('\t');
        int b = line.indexOf('\t', a + 1);
        int c = line.indexOf('\t', b + 1);
        t.add(Integer.parseInt(line, 0, a, 10), Integer.parseInt(line, a + 1, b, 10),
            Float.parseFloat(line.substring(b + 1, c < 0 ? line.length() : c)));
      }
    }
    return t;
  }
}
