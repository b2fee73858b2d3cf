/**
 * The {@code spark-als} solver plugin: Apache Spark MLlib's alternating least squares behind the
 * solver SPI, so that a rating matrix too large for one machine trains on a Spark cluster
 * (standalone, YARN, Kubernetes, or {@code local[*]} in the server's JVM) while mfserve serves
 * the factors. It reads its data either from the fit request (small jobs) or, with the
 * {@code source_uri} parameter, straight from files Spark can read, so the data never passes
 * through the server. Deployed as a plugin directory in {@code --plugins-dir}, loaded in a
 * class loader of its own (see the module's README).
 */
package io.mfserve.solver.spark;
