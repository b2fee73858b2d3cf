package io.mfserve.server.model.tune;

/** How a search spends its budget over iterations (see {@link Schedule}). */
public enum TuneMethod {
  /** Several successive-halving brackets from aggressive to none (Li et al., JMLR 2018). */
  HYPERBAND,
  /** One bracket of successive halving, as many rungs as the budget allows. */
  SUCCESSIVE_HALVING
}
