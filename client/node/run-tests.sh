#!/usr/bin/env bash
# Runs the Node.js example (client/node) against the real server jar: npm ci, then node test.js.
#
# Called by `mvn -B verify` (client module, integration-test phase, after the jars exist) and
# usable alone. When node/npm are missing or the npm registry cannot be reached it says so and
# exits 0 -- unless MFSERVE_REQUIRE_CROSS_LANGUAGE is set (CI sets it), in which case it fails.
# -DskipTests / -DskipITs skip it (passed in as MFSERVE_SKIP_*).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name="node client tests"

# Skips on -DskipTests/-DskipITs; defines unavailable().
source "$here/../cross-language.sh"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  unavailable "node and npm are not installed; install them with: apt-get install -y nodejs npm"
fi

cd "$here"
# Install exactly package-lock.json's versions, once per lock file change.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if ! npm ci --no-audit --no-fund --loglevel=error; then
    unavailable "npm ci could not install @grpc/grpc-js and @grpc/proto-loader (is the npm registry reachable?)"
  fi
fi
node test.js
