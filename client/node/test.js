#!/usr/bin/env node
// Runs example.js against the real server jar on a free port, once per built-in solver.
// The jar is $MFSERVE_SERVER_JAR or server/target/mfserve-server.jar; java is $MFSERVE_JAVA,
// else $JAVA_HOME/bin/java, else java on PATH. Exit code 0 when every run passes.
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const grpc = require('@grpc/grpc-js');

const REPO = path.resolve(__dirname, '..', '..');
const JAR = process.env.MFSERVE_SERVER_JAR || path.join(REPO, 'server', 'target', 'mfserve-server.jar');
const SERVING = Buffer.from([0x08, 0x01]); // grpc.health.v1.HealthCheckResponse{status: SERVING}

function java() {
  if (process.env.MFSERVE_JAVA) return process.env.MFSERVE_JAVA;
  if (process.env.JAVA_HOME) return path.join(process.env.JAVA_HOME, 'bin', 'java');
  return 'java';
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** grpc.health.v1.Health/Check with raw bytes (no health proto needed). */
function healthy(target) {
  return new Promise((resolve) => {
    const client = new grpc.Client(target, grpc.credentials.createInsecure());
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', () => Buffer.alloc(0), (b) => b,
      {}, { deadline: new Date(Date.now() + 2000) }, (err, reply) => {
        client.close();
        resolve(!err && SERVING.equals(reply));
      });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  if (!fs.existsSync(JAR)) {
    throw new Error(`${JAR} does not exist; build it first: mvn -B package -DskipTests`);
  }
  const port = await freePort();
  const target = `localhost:${port}`;
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mfserve-node-')), 'server.log');
  const log = fs.openSync(logFile, 'w');
  const server = spawn(java(), ['-Xmx1g', '-jar', JAR, '--port', String(port)],
    { stdio: ['ignore', log, log] });
  let exited = false;
  server.on('exit', () => { exited = true; });
  try {
    const deadline = Date.now() + 60000;
    while (!(await healthy(target))) {
      if (exited) throw new Error(`server exited:\n${fs.readFileSync(logFile, 'utf8')}`);
      if (Date.now() > deadline) throw new Error(`server not SERVING after 60 s:\n${fs.readFileSync(logFile, 'utf8')}`);
      await sleep(200);
    }
    let failures = 0;
    for (const solver of ['als', 'sgd', 'nmf']) {
      const run = spawnSync(process.execPath, [path.join(__dirname, 'example.js'), solver],
        { env: { ...process.env, MFSERVE_TARGET: target }, encoding: 'utf8', timeout: 120000 });
      const out = run.stdout || '';
      const ok = run.status === 0 && out.includes('user_factors: 10 x 5')
        && out.includes('item_factors: 20 x 5') && /score\(user 0, item 0\) = -?\d/.test(out)
        && out.includes(`solver ${solver}`);
      console.log(`node example (${solver}): ${ok ? 'ok' : 'FAILED'}`);
      if (!ok) {
        failures++;
        console.log(out + (run.stderr || '') + (run.error ? String(run.error) : ''));
      }
    }
    // A bad request surfaces as the gRPC status, and a non-zero exit code.
    const bad = spawnSync(process.execPath, [path.join(__dirname, 'example.js'), 'no-such-solver'],
      { env: { ...process.env, MFSERVE_TARGET: target }, encoding: 'utf8', timeout: 60000 });
    const badOk = bad.status === 1 && (bad.stderr || '').includes('INVALID_ARGUMENT');
    console.log(`node example (unknown solver → INVALID_ARGUMENT): ${badOk ? 'ok' : 'FAILED'}`);
    if (!badOk) failures++;
    if (failures) throw new Error(`${failures} node example run(s) failed`);
  } finally {
    server.kill('SIGTERM');
    for (let i = 0; i < 100 && !exited; i++) await sleep(100);
    if (!exited) server.kill('SIGKILL');
    fs.closeSync(log);
    fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`node client tests: ${err.message}`);
  process.exit(1);
});
