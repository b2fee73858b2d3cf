/**
 * The solver SPI: the plain-Java contract between the mfserve server and the plugins that
 * train factor models.
 *
 * <p>A plugin is a jar holding a {@link io.mfserve.solver.SolverProvider} implementation
 * registered in {@code META-INF/services/io.mfserve.solver.SolverProvider}. The server finds it
 * with {@link java.util.ServiceLoader}, resolves the request's parameters against
 * {@link io.mfserve.solver.SolverProvider#parameters()}, builds an immutable
 * {@link io.mfserve.solver.TrainingMatrix}, and calls
 * {@link io.mfserve.solver.Solver#fit(TrainingMatrix, FitContext)}, which returns an immutable
 * {@link io.mfserve.solver.FactorModel}. Nothing in this package knows about gRPC, Guice or the
 * wire format, and a plugin must not either.
 */
package io.mfserve.solver;
