#!/usr/bin/env bash
# Each solver's defaults against the bias baseline, through the real server and mfctl eval:
# MovieLens 100K u1..u5 (the five given splits) and synthetic sets from gen_synth.py.
#   solvers/bench/accuracy/run_defaults.sh [SETS...]     SETS: ml-100k synth-100k synth-tail synth-1m
# Needs the jars (mvn -B -q package -DskipTests -Dexec.skip=true). Data: ML_100K (default
# ../shared/data/ml-100k next to the repository), SYNTH (default /tmp/synth; made here with
# ../shared/bench/gen_synth.py when missing). Extra mfctl eval flags: EVAL_ARGS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
port="${PORT:-50081}"
log="$(mktemp)"
# shellcheck source=../servers.sh
. "$here/../servers.sh"
port_free "$port"
java --add-modules=jdk.incubator.vector -Xmx4g -jar "$root/server/target/mfserve-server.jar" --port "$port" --no-warmup \
  >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
await_server "$server" "$log" "listening" 20
lock=()
# NO_LOCK=1: accuracy only (timings then say nothing), without waiting for the shared lock.
if [[ "${NO_LOCK:-0}" != 1 ]] && command -v flock >/dev/null; then lock=(flock /tmp/bench.lock); fi
"${lock[@]}" /usr/bin/python3 "$here/defaults.py" --target "localhost:$port" \
  --mfctl "$root/client/target/mfctl.jar" --root "$root" "$@"
