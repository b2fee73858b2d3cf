#!/usr/bin/env bash
# Builds the bench module (-Pbench, with the solver modules from this checkout: package, not
# install) and runs io.mfserve.bench.warm.WarmStartBench: per solver, a cold refit of MovieLens
# 100K u.data against one warm-started from a model of u1.base (see solvers/bench/README.md).
#   solvers/bench/run-warm.sh                       # als, als with biases, sgd, nmf
#   solvers/bench/run-warm.sh --solvers nmf --k 20  # any WarmStartBench arguments
# Data: --data (default ../shared/data/ml-100k, resolved against the repository root, where
# this script runs it). Timed runs take the shared lock /tmp/bench.lock when flock is there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$root" && mvn -B -q -o -Pbench -pl solvers/bench -am package -DskipTests)
fi
cp="$(cat "$here/target/classpath.txt"):$here/target/classes"
lock=()
if command -v flock > /dev/null; then
  lock=(flock /tmp/bench.lock)
fi
cd "$root"
"${lock[@]}" java --add-modules=jdk.incubator.vector "-Xmx${HEAP:-2g}" -cp "$cp" io.mfserve.bench.warm.WarmStartBench "$@"
