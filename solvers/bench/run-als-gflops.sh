#!/usr/bin/env bash
# Builds the bench module (-Pbench) and prints the GFLOP/s of mfserve's ALS normal equations
# per rank (io.mfserve.bench.AlsGflops; the flop formula is in its Javadoc and the README).
#   solvers/bench/run-als-gflops.sh                 # synth-10M, ranks 10, 64, 128, explicit
#                                                   # then implicit (Cholesky rows)
#   solvers/bench/run-als-gflops.sh ARGS...         # one run with these arguments
# Data: SYNTH (default /tmp/synth) holding synth-10m.* made by shared/bench/gen_synth.py (see
# solvers/bench/README.md). Timed runs take the shared lock /tmp/bench.lock when flock exists.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$root" && mvn -B -q -Pbench -pl solvers/bench -am package -DskipTests -Dexec.skip=true)
fi
cp="$(cat "$here/target/classpath.txt"):$here/target/classes"
# The Vector API module enables ALS's vector kernels (README, "Faster ALS and SGD"); JAVA_OPTS adds more,
# e.g. JAVA_OPTS=-Dmfserve.als.kernels=scalar to time the scalar kernels.
java_cmd=(java --add-modules=jdk.incubator.vector ${JAVA_OPTS:-} "-Xmx${HEAP:-8g}" -cp "$cp"
  io.mfserve.bench.AlsGflops)
lock=()
if command -v flock >/dev/null; then lock=(flock /tmp/bench.lock); fi
uptime
if [[ $# -gt 0 ]]; then
  exec "${lock[@]}" "${java_cmd[@]}" "$@"
fi
synth="${SYNTH:-/tmp/synth}"
"${lock[@]}" "${java_cmd[@]}" --train "$synth/synth-10m.train.tsv" --ranks 10,64,128 \
  --iterations 3
"${lock[@]}" "${java_cmd[@]}" --train "$synth/synth-10m.train.tsv" --ranks 10,64,128 \
  --iterations 3 --implicit
uptime
