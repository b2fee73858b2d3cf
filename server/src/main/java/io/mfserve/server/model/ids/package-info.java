/**
 * External ids and keys: the per-side maps from int64 ids or string keys to dense positions,
 * the references a request makes to them, and their resolution with errors naming the field.
 */
package io.mfserve.server.model.ids;
