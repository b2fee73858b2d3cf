/**
 * Who may talk to the server: TLS and mutual TLS with certificates re-read when they are rotated
 * in place ({@link io.mfserve.server.security.ServerTls}), and bearer tokens with a read or
 * write role, checked by one interceptor against a file of SHA-256 hashes
 * ({@link io.mfserve.server.security.TokenFile}, {@link io.mfserve.server.security.TokenAuth}).
 */
package io.mfserve.server.security;
