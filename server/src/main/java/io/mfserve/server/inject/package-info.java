/**
 * Guice modules: one for the configuration, one turning ServiceLoader into the solver map, one
 * for the application layer, one for the transport. {@code Main} builds them in
 * {@code Stage.PRODUCTION}, so a missing binding fails at boot.
 */
package io.mfserve.server.inject;
