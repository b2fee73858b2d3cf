#!/usr/bin/env bash
# TuneSpec with a budget of 30 fits against an exhaustive grid of the same two parameters,
# als on MovieLens 100K u1 (rank and plain λ, biases by the default rule, 20 sweeps):
#   - tuned: mfctl eval --train u1.base --test u1.test --tune ... (the server holds out 20% of
#     u1.base, races 30 trials, fits the best on all of u1.base; scored on u1.test), seeds 1-3;
#   - grid: the 6 x 6 grid fitted on u1.base and scored on u1.test, every setting: its best row
#     is an oracle (chosen on the test set itself), the most a search could find.
# Prints the test RMSE and the seconds the server spent fitting (trials included).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
ml="${ML_100K:-$root/../shared/data/ml-100k}"
port="${PORT:-50083}"
log="$(mktemp)"
java -Xmx4g -jar "$root/server/target/mfserve-server.jar" --port "$port" --no-warmup \
  >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$log" 2>/dev/null && break; sleep 0.2; done
lock=()
# NO_LOCK=1: accuracy only (timings then say nothing), without waiting for the shared lock.
if [[ "${NO_LOCK:-0}" != 1 ]] && command -v flock >/dev/null; then lock=(flock /tmp/bench.lock); fi
mfctl=("${lock[@]}" java -jar "$root/client/target/mfctl.jar" --target "localhost:$port")
split=(--train "$ml/u1.base" --test "$ml/u1.test" --iterations 20 --solver als)
for seed in 1 2 3; do
  "${mfctl[@]}" --json eval -q "${split[@]}" --seed "$seed" \
    --tune 'regularization=1:100:log factors=2:50' --tune-fits 30 \
  | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); r=d["results"][0]
print("tuned seed %s: test RMSE %.4f, fit+tune %.1f s (baseline %.4f)" % (sys.argv[1],
  r["mean"]["rmse"], r["mean"]["fit_seconds"], d["baseline"]["mean"]["rmse"]))' "$seed"
done
"${mfctl[@]}" --json eval -q "${split[@]}" \
  --grid 'regularization=1.5,3,6,12,25,50 factors=2,5,10,20,35,50' \
| /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); rs=d["results"]
b=rs[0]
print("grid of %d: best (oracle, on the test set) %s test RMSE %.4f; all fits %.1f s" % (len(rs),
  b["setting"], b["mean"]["rmse"], sum(r["mean"]["fit_seconds"] for r in rs)))'
