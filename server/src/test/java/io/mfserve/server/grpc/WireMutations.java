package io.mfserve.server.grpc;

import java.util.Arrays;
import java.util.Random;

/** Random damage to a serialized message, for the tests of our marshallers against protobuf. */
final class WireMutations {
  private WireMutations() { }

  /**
   * {@code bytes} with one of: a byte replaced, the end cut off, random bytes appended, or three
   * bits flipped (it may change {@code bytes} in place).
   */
  static byte[] mutate(Random random, byte[] bytes) {
    switch (random.nextInt(4)) {
      case 0 -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
      case 1 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
      case 2 -> {
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1 + random.nextInt(4));
        for (int i = bytes.length; i < longer.length; i++) {
          longer[i] = (byte) random.nextInt(256);
        }
        bytes = longer;
      }
      default -> {
        for (int flips = 0; flips < 3; flips++) {
          int at = random.nextInt(bytes.length);
          bytes[at] ^= (byte) (1 << random.nextInt(8));
        }
      }
    }
    return bytes;
  }
}
