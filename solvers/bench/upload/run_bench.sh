#!/usr/bin/env bash
# Upload throughput (issue 22): UploadMatrix of a ratings file from the Java client against a
# plain gRPC byte stream of the same size on loopback, both measured in one run (UploadBench.java:
# median of --repeats after --warmups untimed rounds of each (1), alternating), under flock
# /tmp/bench.lock.
#
#   solvers/bench/upload/run_bench.sh [--train FILE] [--repeats N] [--warmups N]
#
# --train defaults to /tmp/synth/synth-10m.train.tsv (make it with ../shared/bench/gen_synth.py,
# see solvers/bench/README.md). Needs server/target/mfserve-server.jar and client/target/mfctl.jar
# (mvn -B package -DskipTests). Env PORT (50993; the byte sink takes PORT+1), SERVER_JAR,
# MFCTL_JAR.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TRAIN=/tmp/synth/synth-10m.train.tsv
REPEATS=3
WARMUPS=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --train) TRAIN="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --warmups) WARMUPS="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
PORT=${PORT:-50993}
SINK_PORT=$((PORT + 1))
SERVER_JAR=${SERVER_JAR:-$ROOT/server/target/mfserve-server.jar}
MFCTL_JAR=${MFCTL_JAR:-$ROOT/client/target/mfctl.jar}
for f in "$SERVER_JAR" "$MFCTL_JAR" "$TRAIN"; do
  [[ -f "$f" ]] || { echo "missing $f" >&2; exit 2; }
done
log=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$log"' EXIT
# shellcheck source=../servers.sh
. "$HERE/../servers.sh"
port_free "$PORT"
port_free "$SINK_PORT"
java -Xmx8g -jar "$SERVER_JAR" --port "$PORT" --no-warmup > "$log/server.log" 2>&1 &
pids+=($!)
java -Xmx2g -cp "$MFCTL_JAR" "$HERE/UploadBench.java" --serve "$SINK_PORT" > "$log/sink.log" 2>&1 &
pids+=($!)
await_server "${pids[0]}" "$log/server.log" "listening"
await_server "${pids[1]}" "$log/sink.log" "listening"
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(java -version 2>&1 | head -1), file $TRAIN"
flock /tmp/bench.lock bash -c "echo \"# load before \$(cut -d' ' -f1-3 /proc/loadavg)\";
  java -Xmx6g -cp '$MFCTL_JAR' '$HERE/UploadBench.java' --target localhost:$PORT \
    --sink localhost:$SINK_PORT --train '$TRAIN' --repeats $REPEATS --warmups $WARMUPS;
  echo \"# load after \$(cut -d' ' -f1-3 /proc/loadavg)\""
