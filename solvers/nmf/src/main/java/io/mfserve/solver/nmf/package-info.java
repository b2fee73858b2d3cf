/**
 * Non-negative matrix factorisation X ≈ W Hᵀ with W, H ≥ 0, as an mfserve solver plugin: the
 * provider {@link io.mfserve.solver.nmf.NmfSolverProvider} (name {@code "nmf"}), found by
 * {@link java.util.ServiceLoader}, and the solver {@link io.mfserve.solver.nmf.NmfSolver}, which
 * fits by HALS (Cichocki and Phan 2009) or multiplicative updates (Lee and Seung 2001) without
 * ever densifying a sparse matrix.
 */
package io.mfserve.solver.nmf;
