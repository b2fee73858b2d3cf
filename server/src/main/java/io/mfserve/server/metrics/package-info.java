/**
 * Prometheus metrics ({@code --metrics-port}): a {@link io.mfserve.server.metrics.MetricsModule}
 * that binds Micrometer's Prometheus registry, a gRPC interceptor timing every call by method
 * and status, the application layer's {@code ServerEvents} as meters, gauges over the stores,
 * the budget and the fit executor, the JVM's meters, and the JDK HTTP server that serves
 * {@code /metrics}. The only package that knows Micrometer; the application layer reports
 * through {@code ServerEvents}, and solvers know nothing of metrics.
 */
package io.mfserve.server.metrics;
