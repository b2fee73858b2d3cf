package io.mfserve.server.model.store;

import io.mfserve.server.model.ids.IdForm;
import io.mfserve.solver.IterationProgress;
import java.util.List;

/**
 * A model as its snapshot's first section describes it: what ListModels shows for a model in
 * the repository that this replica has not loaded, and what an identical retry of a Fit on
 * another replica is recognised by.
 *
 * @param metadata provenance and training summary
 * @param numUsers users
 * @param numItems items
 * @param hasBiases whether it has biases
 * @param userForm how users are named
 * @param itemForm how items are named
 * @param history the training history
 * @param estimatedBytes what loading it would hold against the budget
 */
public record StoredModel(ModelMetadata metadata, int numUsers, int numItems, boolean hasBiases,
    IdForm userForm, IdForm itemForm, List<IterationProgress> history, long estimatedBytes) {
  /** Copies the history. */
  public StoredModel {
    history = List.copyOf(history);
  }
}
