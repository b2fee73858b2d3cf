/**
 * Reliability tests: cancellation and abandonment cleanup, fuzzing of the request mapping and
 * validation, and the other checks the README's Reliability section lists.
 */
package io.mfserve.server.reliability;
