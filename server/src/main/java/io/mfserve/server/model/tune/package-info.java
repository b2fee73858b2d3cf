/**
 * Server-side tuning (FitRequest.tune): random proposals raced by successive halving over
 * iterations on one seeded split of the prepared matrix, each trial scored on the held-out
 * part; the fit package then fits the best setting on all the data. Depends on the solver SPI
 * and the domain errors only.
 */
package io.mfserve.server.model.tune;
