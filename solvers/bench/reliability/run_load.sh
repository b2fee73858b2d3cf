#!/usr/bin/env bash
# Load figures (issue 20): closed-loop mfctl loadtest at concurrency 1, 8 and 64 for predict,
# recommend, similar and health, then recommend's latency without and with fits training on the
# same server (fits must not starve queries).
#   solvers/bench/reliability/run_load.sh
# Env: SERVER_JAR, MFCTL_JAR (defaults: the built jars), SYNTH (default /tmp/synth; a 1M-rating
# synth-1m50k set is made there with shared/bench/gen_synth.py when missing), PORT (50073),
# DURATION (per figure, default 10s), WARMUP (default 5s), SERVER_FLAGS (extra server flags,
# e.g. --training-threads 1), SERVER_JAVA_OPTS (the server's JVM flags; default: the README's,
# which make training threads nice 19; set to "" to measure without), MIXED_ONLY (set: only the
# mixed figures), FITTER_NICE (the nice value of the mfctl process that sends the fits, default
# 19: it stands in for a client on another machine, whose parsing and sending of 1M ratings
# would not take this machine's cores; 0 to let it compete with the queries).
#
# Model: 50,000 users x 10,000 items, 32 factors (sgd, 2 iterations). Generator and server share
# the machine; the whole run holds /tmp/bench.lock. Every figure must show zero errors.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
synth="${SYNTH:-/tmp/synth}"
port="${PORT:-50073}"
duration="${DURATION:-10s}"
warmup="${WARMUP:-5s}"
# shellcheck source-path=SCRIPTDIR source=../server-jars.sh
. "$here/../server-jars.sh"
train="$synth/synth-1m50k.train.tsv"
if [[ ! -f "$train" ]]; then
  gen="$root/../shared/bench/gen_synth.py"
  mkdir -p "$synth"
  /usr/bin/python3 "$gen" --users 50000 --items 10000 --nnz 1000000 --rank 10 --seed 3 \
    --out "$synth/synth-1m50k"
fi
if (exec 3<> "/dev/tcp/localhost/$port") 2> /dev/null; then
  echo "port $port is in use: stop what listens there, or set PORT" >&2
  exit 2
fi
log="$(mktemp -d)"
# shellcheck disable=SC2086
java ${SERVER_JAVA_OPTS-$(cat "$root/deploy/jvm-flags")} -jar "$server_jar" --port "$port" ${SERVER_FLAGS:-} > "$log/server.log" 2>&1 &
server=$!
fitter=""
trap 'kill $fitter $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
mfctl=(java -jar "$mfctl_jar" --target "localhost:$port")
for _ in $(seq 90); do "${mfctl[@]}" solvers > /dev/null 2>&1 && break; sleep 1; done
"${mfctl[@]}" fit "$train" --solver sgd --factors 32 --iterations 2 --model-id load --quiet \
  > /dev/null

loadtest() {
  "${mfctl[@]}" --json loadtest "$@" | python3 -c '
import json, sys
d = json.load(sys.stdin); l = d["latency_ms"]
print("%-9s c=%-3s thr=%9.1f/s p50=%.2f p99=%.2f p99.9=%.2f max=%.2f ms errors=%s"
      % (d["rpc"], d["concurrency"], d["throughput_per_s"], l["p50"], l["p99"], l["p99_9"],
         l["max"], d["errors"] or "none"))'
}
echo "$(date -u +%FT%TZ) $(nproc) cores; model load: 50000 x 10000 x 32 (sgd);" \
  "server flags: ${SERVER_FLAGS:-none}; JVM: ${SERVER_JAVA_OPTS-$(cat "$root/deploy/jvm-flags")}"
rpcs=(health predict recommend similar)
[[ -n "${MIXED_ONLY:-}" ]] && rpcs=()
for rpc in "${rpcs[@]}"; do
  model=(--model load)
  [[ $rpc == health ]] && model=()
  for c in 1 8 64; do
    loadtest --rpc "$rpc" "${model[@]}" --concurrency "$c" --duration "$duration" \
      --warmup "$warmup"
  done
done

# Mixed: recommend at c=8 alone, then while ALS fits of the same 1M ratings train back to back
# (one at a time, 2 training threads: the default on this machine), then alone again.
echo "mixed: recommend c=8 without fits / with fits / without"
# Warm the query path first (the first figure after the load fit would otherwise pay the JIT).
loadtest --rpc recommend --model load --concurrency 8 --duration 10s --warmup 0s > /dev/null
loadtest --rpc recommend --model load --concurrency 8 --duration "$duration" --warmup "$warmup"
( i=0; while [[ ! -f "$log/stop" ]]; do
    i=$((i + 1))
    nice -n "${FITTER_NICE:-19}" "${mfctl[@]}" fit "$train" --solver als --factors 32 \
      --iterations 5 --model-id "bg-$i" \
      --quiet > /dev/null 2>&1 || true
    "${mfctl[@]}" delete "bg-$i" > /dev/null 2>&1 || true
  done ) &
fitter=$!
sleep 8 # the first fit's upload and preparation, so that training runs during the figure
fits_done() { grep -c 'event=fit .*result=ok' "$log/server.log" || true; }
before=$(fits_done)
loadtest --rpc recommend --model load --concurrency 8 --duration "$duration" --warmup 2s
echo "fits finished during the figure (its warm-up included): $(( $(fits_done) - before ))"
touch "$log/stop"
wait "$fitter" 2>/dev/null || true
fitter=""
sleep 5
loadtest --rpc recommend --model load --concurrency 8 --duration "$duration" --warmup "$warmup"
