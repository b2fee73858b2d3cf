package io.mfserve.server.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Swaps methods of a generated service binding for the same methods read by marshallers of the
 * server's own (the requests that bring matrices, decoded straight into arrays). Each swapped
 * method keeps its name, type and response marshaller; the service keeps its name and schema
 * (for reflection) and every other method.
 */
final class DecodedMethods {
  private DecodedMethods() { }

  /**
   * {@code service} with each of {@code methods} in place of the method of the same full name.
   *
   * @throws IllegalArgumentException when one of {@code methods} is not in {@code service}
   */
  static ServerServiceDefinition replace(ServerServiceDefinition service,
      List<ServerMethodDefinition<?, ?>> methods) {
    Map<String, ServerMethodDefinition<?, ?>> byName = new HashMap<>();
    for (ServerMethodDefinition<?, ?> m : methods) {
      byName.put(m.getMethodDescriptor().getFullMethodName(), m);
    }
    ServiceDescriptor old = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(old.getName())
        .setSchemaDescriptor(old.getSchemaDescriptor());
    int swapped = 0;
    for (MethodDescriptor<?, ?> m : old.getMethods()) {
      ServerMethodDefinition<?, ?> ours = byName.get(m.getFullMethodName());
      descriptor.addMethod(ours == null ? m : ours.getMethodDescriptor());
      swapped += ours == null ? 0 : 1;
    }
    if (swapped != byName.size()) {
      throw new IllegalArgumentException("not all of " + byName.keySet() + " are methods of "
          + old.getName());
    }
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      out.addMethod(byName.getOrDefault(m.getMethodDescriptor().getFullMethodName(), m));
    }
    return out.build();
  }
}
