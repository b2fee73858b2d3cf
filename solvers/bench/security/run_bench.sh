#!/usr/bin/env bash
# Cost of TLS and of token checks on serving (issue 16): Predict and Recommend throughput,
# closed loop, against three server jars started side by side on ML-100K (ALS, 20 factors):
# plaintext, TLS (openssl-made EC P-256 certificate), and plaintext with --auth-tokens.
#   solvers/bench/security/run_bench.sh
# Env: SERVER_JAR, MFCTL_JAR (default: the built jars), DATA (default shared/data/ml-100k/u.data
# beside the repository), DUR (each recorded run, default 8s), WARM (mfctl's unrecorded warm-up
# per run, default 3s), BLOCKS (ABBA blocks per pair, default 2), C (concurrency, default 16).
# Each server first gets 10 s of unrecorded load per RPC (server JIT). Then, per RPC, the
# plaintext server (A) against TLS (B), and A against tokens (B), in ABBA order, BLOCKS times:
# ratios are B over A, per block and pooled. Certificates and tokens live in a temporary
# directory that is deleted at the end. Holds /tmp/bench.lock like the other benchmarks.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
server_jar="${SERVER_JAR:-$root/server/target/mfserve-server.jar}"
mfctl_jar="${MFCTL_JAR:-$root/client/target/mfctl.jar}"
data="${DATA:-$root/../shared/data/ml-100k/u.data}"
dur="${DUR:-8s}"; warm="${WARM:-3s}"; blocks="${BLOCKS:-2}"; conc="${C:-16}"
if [[ -z "${BENCH_LOCKED:-}" ]] && command -v flock >/dev/null; then
  BENCH_LOCKED=1 exec flock -o /tmp/bench.lock "$0" "$@"
fi
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req -new "${ec[@]}" -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -set_serial 7 -days 2 -out srv.pem \
  -extfile ext 2>/dev/null
read_token="$(openssl rand -hex 32)"; write_token="$(openssl rand -hex 32)"
{ echo "$(printf %s "$read_token" | sha256sum | cut -d' ' -f1) read bench"
  echo "$(printf %s "$write_token" | sha256sum | cut -d' ' -f1) write bench-fit"; } > tokens
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])'; }
p1=$(port); p2=$(port); p3=$(port)
srv=(java -Xmx768m -jar "$server_jar" --memory-budget 400m)
"${srv[@]}" --port "$p1" > plain.log 2>&1 & pids+=($!)
"${srv[@]}" --port "$p2" --tls-cert srv.pem --tls-key srv.key > tls.log 2>&1 & pids+=($!)
"${srv[@]}" --port "$p3" --auth-tokens tokens > token.log 2>&1 & pids+=($!)
# shellcheck source=../servers.sh
. "$root/solvers/bench/servers.sh"
logs=(plain tls token)
for i in 0 1 2; do
  await_server "${pids[$i]}" "${logs[$i]}.log" "listening on port"
done
mfctl=(java -jar "$mfctl_jar")
plain=(--target "localhost:$p1")
tls=(--target "localhost:$p2" --tls --ca ca.pem)
token=(--target "localhost:$p3" --token "$read_token")
"${mfctl[@]}" "${plain[@]}" fit "$data" --factors 20 --model-id ml --quiet > /dev/null
"${mfctl[@]}" "${tls[@]}" fit "$data" --factors 20 --model-id ml --quiet > /dev/null
"${mfctl[@]}" --target "localhost:$p3" --token "$write_token" fit "$data" --factors 20 \
  --model-id ml --quiet > /dev/null
# run RPC DURATION WARMUP FLAGS... -> "calls/s failed"
run() {
  local rpc=$1 d=$2 w=$3; shift 3
  "${mfctl[@]}" "$@" --json loadtest --rpc "$rpc" --model ml --concurrency "$conc" \
    --channels 4 --duration "$d" --warmup "$w" | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print("%.0f %d" % (d["throughput_per_s"], d["failed"]))'
}
for rpc in predict recommend; do
  run "$rpc" 10s 0s "${plain[@]}" > /dev/null
  run "$rpc" 10s 0s "${tls[@]}" > /dev/null
  run "$rpc" 10s 0s "${token[@]}" > /dev/null
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rpc in predict recommend; do
  for b in tls token; do
    if [[ $b == tls ]]; then flags=("${tls[@]}"); else flags=("${token[@]}"); fi
    sa=0; sb=0
    for ((i = 1; i <= blocks; i++)); do
      a1=$(run "$rpc" "$dur" "$warm" "${plain[@]}"); b1=$(run "$rpc" "$dur" "$warm" "${flags[@]}")
      b2=$(run "$rpc" "$dur" "$warm" "${flags[@]}"); a2=$(run "$rpc" "$dur" "$warm" "${plain[@]}")
      read -r x1 _ <<< "$a1"; read -r y1 _ <<< "$b1"; read -r y2 _ <<< "$b2"; read -r x2 _ <<< "$a2"
      sa=$((sa + x1 + x2)); sb=$((sb + y1 + y2))
      printf '%-9s %-5s block %d  plain %s | %s %s | %s %s | plain %s  ratio %.2f\n' "$rpc" "$b" \
        "$i" "$a1" "$b" "$b1" "$b" "$b2" "$a2" "$(echo "($y1 + $y2) / ($x1 + $x2)" | bc -l)"
    done
    printf '%-9s %-5s pooled ratio %.2f\n' "$rpc" "$b" "$(echo "$sb / $sa" | bc -l)"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
