/**
 * Non-negative matrix factorisation X ≈ W Hᵀ with W, H ≥ 0, as an mfserve solver plugin: the
 * provider {@link io.mfserve.solver.nmf.NmfSolverProvider} (name {@code "nmf"}), found by
 * {@link java.util.ServiceLoader}, and the solver {@link io.mfserve.solver.nmf.NmfSolver}, which
 * fits the Frobenius loss by HALS (Cichocki and Phan 2009, accelerated as Gillis and Glineur
 * 2012) or multiplicative updates (Lee and Seung 2001) and the generalised Kullback–Leibler
 * divergence by multiplicative updates, with L1/L2 penalties and a random or NNDSVD start
 * (Boutsidis and Gallopoulos 2008, from a seeded randomized SVD), without ever densifying a
 * sparse matrix. Fold-in of a new row (a new document's topic mixture) follows the model's loss.
 */
package io.mfserve.solver.nmf;
