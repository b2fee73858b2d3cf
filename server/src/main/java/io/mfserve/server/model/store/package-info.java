/**
 * Trained models as the server holds them: {@link io.mfserve.server.model.store.ServedModel}
 * with its metadata, seen items and scan index, the in-memory {@link
 * io.mfserve.server.model.store.ModelStore} (claims, aliases, the repository's miss path and
 * eviction) and the {@link io.mfserve.server.model.store.MemoryBudget} every large allocation
 * is reserved against.
 */
package io.mfserve.server.model.store;
