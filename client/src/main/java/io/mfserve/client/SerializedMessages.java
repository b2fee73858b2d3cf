package io.mfserve.client;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Requests sent as the bytes of a message already serialized (by {@link MatrixChunks#sparseWire}
 * or {@code toByteArray}): the wire carries the same bytes as the generated marshaller would
 * write, without a second pass through a serializer. Not part of the public API.
 */
final class SerializedMessages {
  private SerializedMessages() {}

  /** Writes a byte array as itself; parsing is never asked of it (requests only). */
  static final MethodDescriptor.Marshaller<byte[]> MARSHALLER =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new Bytes(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }
      };

  /**
   * {@code method} with its requests sent as serialized bytes; the same name, type and response
   * marshaller, so servers, interceptors and tokens see no difference.
   */
  static <Q, R> MethodDescriptor<byte[], R> of(MethodDescriptor<Q, R> method) {
    return method.toBuilder(MARSHALLER, method.getResponseMarshaller()).build();
  }

  /**
   * A byte array's stream whose length gRPC's framer can read up front and which it can drain
   * into its buffers in one copy.
   */
  private static final class Bytes extends ByteArrayInputStream implements KnownLength,
      Drainable {
    Bytes(byte[] value) {
      super(value);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
