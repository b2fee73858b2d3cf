package io.mfserve.server.model.ids;

import io.mfserve.server.model.errors.InvalidRequestException;

/**
 * Maps the ids or keys a query names to positions in a model, refusing the wrong id form and
 * unknown ids with INVALID_ARGUMENT naming the field (and index) at fault. Stateless.
 */
public final class IdResolver {
  private IdResolver() { }

  /**
   * Resolves every id of {@code refs}.
   *
   * @param side "user" or "item", for messages
   * @param indexed whether the field is a list, so a violation names {@code field[j]}
   */
  public static int[] resolve(IdRefs refs, IdIndex index, String side, boolean indexed) {
    return resolve(refs, index, side, indexed, false, "");
  }

  /**
   * Like {@link #resolve(IdRefs, IdIndex, String, boolean)}, optionally keeping unknown ids.
   *
   * @param keepUnknown true to return -1 for an unknown id instead of refusing it
   * @param advice appended to the message that refuses an unknown id
   */
  public static int[] resolve(IdRefs refs, IdIndex index, String side, boolean indexed,
      boolean keepUnknown, String advice) {
    boolean byIds = requireForm(refs, index, side);
    int n = refs.size();
    int[] out = new int[n];
    for (int j = 0; j < n; j++) {
      int p = byIds ? index.indexOf(refs.ids()[j]) : index.indexOf(refs.keys()[j]);
      if (p < 0 && !keepUnknown) {
        String field = (byIds ? refs.idsField() : refs.keysField()) + (indexed ? "[" + j + "]"
            : "");
        throw new InvalidRequestException(field, "unknown " + side + " " + (byIds
            ? Long.toString(refs.ids()[j]) : "'" + abbreviate(refs.keys()[j]) + "'")
            + " (the model has " + index.size() + " " + side + "s)" + advice);
      }
      out[j] = p;
    }
    return out;
  }

  /**
   * Refuses refs in the wrong id form for the model: int64 ids where it names {@code side}s by
   * string keys, or the other way round, naming the field that was set.
   *
   * @return whether the model names {@code side}s by int64 ids
   */
  public static boolean requireForm(IdRefs refs, IdIndex index, String side) {
    boolean byIds = index.form() == IdForm.INT64;
    if (byIds && refs.keys().length > 0 || !byIds && refs.ids().length > 0) {
      throw new InvalidRequestException(byIds ? refs.keysField() : refs.idsField(),
          "this model names " + side + "s by " + (byIds ? "int64 ids; use " + refs.idsField()
              : "string keys; use " + refs.keysField()));
    }
    return byIds;
  }

  /** The field a side's refs came in, in the model's form, for messages. */
  public static String field(IdRefs refs, IdIndex index) {
    return index.form() == IdForm.INT64 ? refs.idsField() : refs.keysField();
  }

  /** {@code s} cut to at most 64 characters, so a huge key or id cannot bloat an error message. */
  public static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 61) + "...";
  }
}
