package io.mfserve.client.cli;

import io.mfserve.client.cli.InputFiles.InputException;
import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.UserHistory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The small files the query commands read: a new user's history ({@code item value} per line,
 * for fold-in) and a list of users (one per line, for batches). Fields are separated by spaces,
 * tabs or a comma; blank lines and lines starting with {@code #} are skipped. Ids are read in the
 * model's id form: int64 for models with int64 ids, the text as a key otherwise.
 */
final class UserFiles {
  private UserFiles() {}

  /**
   * Reads a history file.
   *
   * @param itemForm the model's item id form
   * @throws InputException naming the file and line of anything malformed, or an empty file
   */
  static UserHistory history(Path file, IdForm itemForm) {
    UserHistory.Builder h = UserHistory.newBuilder();
    lines(file, (n, f) -> {
      if (f.length < 2) {
        throw new InputException(file + " line " + n + ": expected 'item value' but found '"
            + String.join(" ", f) + "'");
      }
      if (itemForm == IdForm.ID_FORM_STRING) {
        h.addItemKeys(f[0]);
      } else {
        h.addItemIds(id(file, n, "item", f[0]));
      }
      float v;
      try {
        v = Float.parseFloat(f[1]);
      } catch (NumberFormatException e) {
        throw new InputException(file + " line " + n + ": value '" + f[1] + "' is not a number");
      }
      if (!Float.isFinite(v)) {
        throw new InputException(file + " line " + n + ": value '" + f[1] + "' is not finite");
      }
      h.addValues(v);
    });
    if (h.getValuesCount() == 0) {
      throw new InputException(file + ": no 'item value' lines; a history needs at least one");
    }
    return h.build();
  }

  /**
   * Reads a users file: the first field of each line.
   *
   * @throws InputException naming the file and line of a malformed id, or an empty file
   */
  static List<String> users(Path file, IdForm userForm) {
    List<String> users = new ArrayList<>();
    lines(file, (n, f) -> {
      if (userForm != IdForm.ID_FORM_STRING) {
        id(file, n, "user", f[0]);
      }
      users.add(f[0]);
    });
    if (users.isEmpty()) {
      throw new InputException(file + ": no users; give one per line");
    }
    return users;
  }

  private static long id(Path file, int n, String what, String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new InputException(file + " line " + n + ": " + what + " '" + s + "' is not an"
          + " integer; the model names its " + what + "s by int64 ids");
    }
  }

  private interface Line {
    void accept(int number, String[] fields);
  }

  private static void lines(Path file, Line each) {
    DataLines.forEach(file, (n, t) -> each.accept(n, t.split("\\s*,\\s*|\\s+")));
  }
}
