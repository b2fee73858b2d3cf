/**
 * Input matrices on their way to a solver: the accumulator that collects inline or uploaded
 * chunks under the memory budget, the prepared (immutable) matrix with its id maps and
 * fingerprint, and the store of uploaded matrices with their time to live.
 */
package io.mfserve.server.model.matrix;
