#!/usr/bin/env bash
# TuneSpec with a budget of 30 fits against an exhaustive grid of the same two parameters,
# als on MovieLens 100K u1 (rank and plain λ, biases by the default rule, 20 sweeps):
#   - tuned: mfctl eval --train u1.base --test u1.test --tune ... (the server holds out 20% of
#     u1.base, races 30 trials, fits the best on all of u1.base; scored on u1.test), seeds 1-3;
#   - grid: the 6 x 6 grid fitted on u1.base and scored on u1.test, every setting: its best row
#     is an oracle (chosen on the test set itself), the most a search could find.
# Prints the test RMSE and the seconds the server spent fitting (trials included), for
# Hyperband and successive halving at the same budgets (FITS="10 30", METHODS, GRID=0 to skip
# the grid, SGD=1 to add sgd's learning rate).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
ml="${ML_100K:-$root/../shared/data/ml-100k}"
port="${PORT:-50083}"
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
mfctl=("${lock[@]}" java -jar "$root/client/target/mfctl.jar" --target "localhost:$port")
split=(--train "$ml/u1.base" --test "$ml/u1.test" --iterations 20 --solver als)
# METHODS: the searches compared at the same budget in trials (FITS, one or more budgets).
for fits in ${FITS:-30}; do
  for method in ${METHODS:-hyperband halving}; do
    for seed in 1 2 3; do
      "${mfctl[@]}" --json eval -q "${split[@]}" --seed "$seed" \
        --tune 'regularization=1:100:log factors=2:50' --tune-fits "$fits" \
        --tune-method "$method" \
      | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); r=d["results"][0]
f=r["folds"][0]; t=f.get("tuned", {})
print("%s %s fits, seed %s: test RMSE %.4f, fit+tune %.1f s (baseline %.4f); chose %s, %s"
  " trials" % (sys.argv[2], sys.argv[3], sys.argv[1], r["mean"]["rmse"],
  r["mean"]["fit_seconds"], d["baseline"]["mean"]["rmse"],
  " ".join("%s=%s" % kv for kv in sorted(t.get("setting", {}).items())), t.get("trials")))' \
        "$seed" "$method" "$fits"
    done
  done
done
# SGD=1: the same comparison for sgd's learning rate and λ (30 fits, 20 epochs), where a
# high rate looks best after one epoch and over-fits by the twentieth.
if [[ "${SGD:-0}" == 1 ]]; then
  for method in ${METHODS:-hyperband halving}; do
    for seed in 1 2 3; do
      "${mfctl[@]}" --json eval -q --train "$ml/u1.base" --test "$ml/u1.test" --solver sgd \
        --seed "$seed" --tune 'learning_rate=0.002:0.2:log regularization=0.005:0.5:log' \
        --tune-fits 30 --tune-method "$method" \
      | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); r=d["results"][0]
t=r["folds"][0].get("tuned", {})
print("sgd %s seed %s: test RMSE %.4f, fit+tune %.1f s; chose %s" % (sys.argv[1], sys.argv[2],
  r["mean"]["rmse"], r["mean"]["fit_seconds"],
  " ".join("%s=%s" % kv for kv in sorted(t.get("setting", {}).items()))))' "$method" "$seed"
    done
  done
fi
[[ "${GRID:-1}" == 1 ]] || exit 0
"${mfctl[@]}" --json eval -q "${split[@]}" \
  --grid 'regularization=1.5,3,6,12,25,50 factors=2,5,10,20,35,50' \
| /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); rs=d["results"]
b=rs[0]
print("grid of %d: best (oracle, on the test set) %s test RMSE %.4f; all fits %.1f s" % (len(rs),
  b["setting"], b["mean"]["rmse"], sum(r["mean"]["fit_seconds"] for r in rs)))'
