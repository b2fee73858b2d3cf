package io.mfserve.server.model.ids;

import io.mfserve.server.model.errors.InvalidRequestException;
import java.util.regex.Pattern;

/** The form a model id takes, checked the same way by fits and imports. */
public final class ModelIds {
  private static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private ModelIds() { }

  /** Returns whether {@code id} is 1 to 128 of A-Z a-z 0-9 . _ -. */
  public static boolean isValid(String id) {
    return MODEL_ID.matcher(id).matches();
  }

  /**
   * Fails with a message naming {@code field} unless {@code id} is valid.
   *
   * @throws InvalidRequestException for an id of another form
   */
  public static void check(String id, String field) {
    if (!isValid(id)) {
      throw new InvalidRequestException(field, "is '" + IdResolver.abbreviate(id)
          + "'; use 1 to 128 of A-Z a-z 0-9 . _ -, or leave it empty");
    }
  }
}
