#!/usr/bin/env bash
# The implicit-feedback table: ML-100K ratings >= 4 as positives, a per-user holdout of 20% of
# them; P@10 and NDCG@10 of als (implicit) and sgd (BPR) at their defaults against popularity
# (mfctl eval's baseline row). Needs the jars; data as run_defaults.sh. EVAL_ARGS adds flags.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
ml="${ML_100K:-$root/../shared/data/ml-100k}"
out="${OUT:-/tmp/ml100k-implicit}"
/usr/bin/python3 "$here/implicit_split.py" --data "$ml/u.data" --out "$out"
port="${PORT:-50082}"
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
for solver in als sgd; do
  echo "== $solver ${EVAL_ARGS:-}"
  "${lock[@]}" java -jar "$root/client/target/mfctl.jar" --target "localhost:$port" eval -q \
    --train "$out.train.tsv" --test "$out.test.tsv" --absent implicit -k 10 \
    --solver "$solver" ${EVAL_ARGS:-} "$@"
done
