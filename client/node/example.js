#!/usr/bin/env node
// The mfserve seed example from Node.js:
//
//   model = MatrixFactorization(ratings_matrix, num_topics=5); model.fit()
//   user_factors, item_factors = model.get_factors()
//
// over gRPC with @grpc/grpc-js. The contract is loaded at run time from the one proto in
// proto/ (no copy, no generated code). Usage: node example.js [solver]  (als, sgd or nmf);
// the server is $MFSERVE_TARGET or localhost:50051; $MFSERVE_TLS_CA (and $MFSERVE_TLS_CERT,
// $MFSERVE_TLS_KEY for mutual TLS) turn TLS on, $MFSERVE_TOKEN sends a bearer token.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto', 'src', 'main', 'proto');

/** Loads mfserve.v1 from proto/; google/protobuf/timestamp.proto comes with proto-loader. */
function loadMfserve() {
  const definition = protoLoader.loadSync('mfserve/v1/mfserve.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true, // field names as in the proto: num_factors, user_factors
    longs: Number, // int64 ids as numbers (exact below 2^53)
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).mfserve.v1;
}

/** A unary call as a promise, with a deadline. */
function unary(client, method, request, seconds = 60) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + seconds * 1000);
    client[method](request, { deadline }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

/** GetFactors is a server stream of row chunks, users first: concatenate each side's rows. */
function getFactors(client, modelId) {
  return new Promise((resolve, reject) => {
    const users = [];
    const items = [];
    let model = null;
    const call = client.GetFactors({ model_id: modelId }, { deadline: new Date(Date.now() + 60000) });
    call.on('data', (chunk) => {
      if (chunk.model) model = chunk.model;
      users.push(...rows(chunk.user_factors));
      items.push(...rows(chunk.item_factors));
    });
    call.on('error', reject);
    call.on('end', () => resolve({ model, userFactors: users, itemFactors: items }));
  });
}

function rows(dense) {
  const out = [];
  for (let r = 0; r < (dense ? dense.rows : 0); r++) {
    out.push(dense.values.slice(r * dense.cols, (r + 1) * dense.cols));
  }
  return out;
}

/** A small seeded generator (mulberry32), so the example prints the same numbers each run. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);

/**
 * TLS when $MFSERVE_TLS_CA names the CA's PEM file (mutual TLS with $MFSERVE_TLS_CERT and
 * $MFSERVE_TLS_KEY as this client's certificate and key), else plaintext.
 */
function channelCredentials() {
  const { MFSERVE_TLS_CA: ca, MFSERVE_TLS_CERT: cert, MFSERVE_TLS_KEY: key } = process.env;
  if (!ca) {
    return grpc.credentials.createInsecure();
  }
  const read = (file) => (file ? fs.readFileSync(file) : null);
  return grpc.credentials.createSsl(read(ca), read(key), read(cert));
}

/**
 * Adds "authorization: Bearer TOKEN" to every call when a token is given ($MFSERVE_TOKEN): an
 * interceptor, since grpc-js sends call credentials only over TLS.
 */
function bearerToken(token) {
  if (!token) {
    return [];
  }
  return [(options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('authorization', `Bearer ${token}`);
      next(metadata, listener);
    },
  })];
}

async function main() {
  const solver = process.argv[2] || 'als';
  const target = process.env.MFSERVE_TARGET || 'localhost:50051';
  const mfserve = loadMfserve();
  const client = new mfserve.MatrixFactorization(target, channelCredentials(), {
    interceptors: bearerToken(process.env.MFSERVE_TOKEN),
  });

  // ratings_matrix: 10 users x 20 items, integers 0..5, row-major.
  const rowsN = 10;
  const colsN = 20;
  const next = random(7);
  const values = Array.from({ length: rowsN * colsN }, () => Math.floor(next() * 6));

  try {
    const fit = await unary(client, 'Fit', {
      solver,
      num_factors: 5,
      matrix: { dense: { rows: rowsN, cols: colsN, values } },
    }, 600);
    const info = fit.model;
    console.log(`model ${info.model_id}: solver ${info.solver}, ${info.iterations} iterations, ` +
      `training RMSE ${info.training_rmse.toFixed(4)}`);

    const { userFactors, itemFactors } = await getFactors(client, info.model_id);
    console.log(`user_factors: ${userFactors.length} x ${userFactors[0].length}`);
    console.log(`item_factors: ${itemFactors.length} x ${itemFactors[0].length}`);

    // reconstructed = user_factors @ item_factors.T (without biases; sgd adds them in Predict)
    const pairs = [[0, 0], [0, 1], [3, 7], [9, 19]];
    const predicted = await unary(client, 'Predict', {
      model_id: info.model_id,
      user_ids: pairs.map((p) => p[0]),
      item_ids: pairs.map((p) => p[1]),
    });
    pairs.forEach(([u, i], n) => {
      console.log(`score(user ${u}, item ${i}) = ${predicted.scores[n].toFixed(4)}` +
        `  (rating ${values[u * colsN + i]}, user·item ${dot(userFactors[u], itemFactors[i]).toFixed(4)})`);
    });

    const recs = await unary(client, 'Recommend', { model_id: info.model_id, user_id: 0, k: 3 });
    console.log(`top 3 for user 0: ${recs.items.map((r) => `${r.item_id} (${r.score.toFixed(3)})`).join(', ')}`);

    await unary(client, 'DeleteModel', { model_id: info.model_id });
  } catch (err) {
    // err.code is the gRPC status code; err.details the server's message.
    console.error(`mfserve error: ${grpc.status[err.code] || err.code}: ${err.details || err.message}`);
    process.exitCode = 1;
  } finally {
    client.close();
  }
}

if (require.main === module) {
  main();
}

module.exports = { loadMfserve };
