#!/usr/bin/env bash
# Builds the bench module (-Pbench) and runs mfserve's sgd solver (io.mfserve.bench.sgd.SgdBench)
# on the figures LibMF is compared on, then BPR beside implicit ALS.
#   solvers/bench/run-sgd.sh            # the whole suite (about 5 minutes of lock time)
#   solvers/bench/run-sgd.sh ARGS...    # one SgdBench run with these arguments
#   solvers/bench/run-sgd.sh libmf DIR [ROUNDS]  # s/epoch on synth-10M beside LibMF's mf-train
# The JVM gets --add-modules=jdk.incubator.vector (the Vector API kernel); VECTOR=0 leaves it out.
# Data: ML_100K (default ../shared/data/ml-100k next to the repository) and SYNTH (default /tmp/synth) holding
# synth-1m.* and synth-10m.* from shared/bench/gen_synth.py. Every run takes /tmp/bench.lock.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$root" && mvn -B -q -o -Pbench -pl solvers/bench -am package -DskipTests -Dexec.skip=true)
fi
# BENCH_CP replaces the class path, e.g. to time another commit's build in the same session.
cp="${BENCH_CP:-$(cat "$here/target/classpath.txt"):$here/target/classes}"
# --add-modules: the biased model runs its Vector API kernel, as on a server given that flag
# (README, "Faster ALS and SGD"); VECTOR=0 runs the scalar kernel instead.
modules=(--add-modules=jdk.incubator.vector)
if [[ "${VECTOR:-1}" == 0 ]]; then modules=(); fi
run() {
  flock /tmp/bench.lock java "${modules[@]}" "-Xmx${HEAP:-6g}" -cp "$cp" \
    io.mfserve.bench.sgd.SgdBench "$@"
}
# Per-epoch speed beside LibMF: solvers/bench/run-sgd.sh libmf LIBMF_DIR [ROUNDS]
# LIBMF_DIR holds mf-train and mf-predict built from LibMF's public source with `make` (outside
# this repository; the script never fetches or builds it). Each round runs mfserve's sgd
# (synth-10M, k 10, 2 threads, 20 epochs, 2 fits in one JVM) and then LibMF's mf-train with the
# same k, threads and epochs (-f 0 -s 2 -k 10 -t 20), each under the bench lock. Both report
# seconds per epoch after the first: mfserve from its per-epoch progress, LibMF from the times
# its per-iteration lines appear (python3 stamps them), and the process CPU time per epoch,
# which a busy shared machine disturbs less. Then LibMF's test RMSE (mf-predict).
libmf_epochs() {
  local dir="$1" tr="$2" model="$3"
  flock /tmp/bench.lock python3 - "$dir/mf-train" -f 0 -s 2 -k 10 -t 20 "$tr" "$model" <<'PY'
import os, subprocess, sys, time
# Runs mf-train, notes the wall-clock time and the process's CPU time (utime + stime from
# /proc) whenever an iteration line appears, and prints both per epoch after the first.
tick = os.sysconf("SC_CLK_TCK")
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
wall, cpu = [], []
for line in p.stdout:
    parts = line.split()
    if parts and parts[0].isdigit():
        wall.append(time.monotonic())
        with open("/proc/%d/stat" % p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu.append((int(fields[11]) + int(fields[12])) / tick)
    sys.stderr.write(line)
p.wait()
n = len(wall)
print("%.4f %.4f" % ((wall[-1] - wall[0]) / (n - 1), (cpu[-1] - cpu[0]) / (n - 1))
      if n > 1 else "nan nan")
PY
}
if [[ "${1:-}" == libmf ]]; then
  dir="$(cd "${2:?usage: run-sgd.sh libmf LIBMF_DIR [ROUNDS]}" && pwd)"
  rounds="${3:-3}"
  synth="${SYNTH:-/tmp/synth}"
  tr="$synth/synth-10m.train.tsv"
  te="$synth/synth-10m.test.tsv"
  model="$(mktemp /tmp/libmf-model.XXXXXX)"
  ours=()
  theirs=()
  oursCpu=()
  theirsCpu=()
  for ((r = 1; r <= rounds; r++)); do
    echo "round $r: $(uptime)"
    line="$(run --train "$tr" --test "$te" --k 10 --threads 2 --runs 2 \
      --set max_iterations=20 | tee /dev/stderr | grep 's/epoch after the first')"
    ours+=("$(sed -E 's#.* ([0-9.]+) s/epoch after the first.*#\1#' <<<"$line")")
    oursCpu+=("$(sed -E 's#.*process CPU ([0-9.]+) s/epoch.*#\1#' <<<"$line")")
    read -r wall cpu < <(libmf_epochs "$dir" "$tr" "$model" 2>/dev/null)
    theirs+=("$wall")
    theirsCpu+=("$cpu")
    echo "round $r: s/epoch mfserve ${ours[-1]} (CPU ${oursCpu[-1]}), LibMF $wall (CPU $cpu)"
  done
  "$dir/mf-predict" -e 0 "$te" "$model" /dev/null
  rm -f "$model"
  python3 -c '
import statistics, sys
for what, a, b in (("seconds", sys.argv[1], sys.argv[2]), ("CPU seconds", sys.argv[3],
                   sys.argv[4])):
    a = [float(x) for x in a.split()]
    b = [float(x) for x in b.split()]
    print("%s per epoch, median of %d rounds: mfserve %.4f, LibMF %.4f, ratio %.2f"
          % (what, len(a), statistics.median(a), statistics.median(b),
             statistics.median(a) / statistics.median(b)))' "${ours[*]}" "${theirs[*]}" \
    "${oursCpu[*]}" "${theirsCpu[*]}"
  echo "after: $(uptime)"
  exit
fi
if [[ $# -gt 0 ]]; then
  run "$@"
  exit
fi
ml="${ML_100K:-$root/../shared/data/ml-100k}"
synth="${SYNTH:-/tmp/synth}"
u1=(--train "$ml/u1.base" --test "$ml/u1.test" --threads 2)
s1=(--train "$synth/synth-1m.train.tsv" --test "$synth/synth-1m.test.tsv" --k 10 --threads 2)
s10=(--train "$synth/synth-10m.train.tsv" --test "$synth/synth-10m.test.tsv" --k 10)

# MovieLens 100K u1 (LibMF: k 10, 20 it: 0.09 s, 0.932; k 50: 0.17 s, 0.920).
run "${u1[@]}" --k 10 --runs 5 --set max_iterations=20
run "${u1[@]}" --k 50 --runs 5 --set max_iterations=20
# A small grid over λ whose epoch counts are chosen on 10% of u1.base (--select), never on
# u1.test: pick the row with the lowest validation RMSE, then read its test RMSE.
grid=()
for reg in 0.08 0.1 0.12 0.15; do
  grid+=(--set max_iterations=100 --set regularization=$reg --case)
done
for k in 40 80; do
  run "${u1[@]}" --k $k --select 0.1 "${grid[@]:0:${#grid[@]}-1}"
done
# SVD++ (model=svdpp; one thread under the default parallel=blocks): a small grid over the
# AdaGrad rate and λ_y, epochs chosen on 10% of u1.base, for three seeds (the seed also draws
# that split). Per seed, read the test RMSE of the row with the lowest validation RMSE.
ppgrid=()
for lr in 0.05 0.1; do
  for ly in 0.3 1 3; do
    ppgrid+=(--set model=svdpp --set max_iterations=100 --set learning_rate=$lr
      --set implicit_regularization=$ly --case)
  done
done
for seed in 1 2 3; do
  run "${u1[@]}" --k 40 --seed $seed --select 0.1 "${ppgrid[@]:0:${#ppgrid[@]}-1}"
done
# Synthetic 1M (LibMF: 100 it, -l2 0.05: 3.2 s, 0.727).
run "${s1[@]}" --runs 3 --set max_iterations=100 --set regularization=0.05 --case \
  --set max_iterations=20
# Synthetic 10M (LibMF: 20 it: 4.8 s = 0.24 s/epoch, 0.887; 100 it, -l2 0.05: 23.4 s, 0.695).
run "${s10[@]}" --threads 2 --runs 3 --set max_iterations=20
run "${s10[@]}" --threads 2 --set max_iterations=100 --set regularization=0.05
# SVD++ on 10M, k 10, 20 epochs: one thread (parallel=blocks), then Hogwild over users on two.
run "${s10[@]}" --threads 2 --set max_iterations=20 --set model=svdpp --case \
  --set max_iterations=20 --set model=svdpp --set parallel=hogwild
# Block schedule against Hogwild, one thread against two.
for t in 1 2; do
  run "${s10[@]}" --threads $t --runs 3 --set max_iterations=10 --case \
    --set max_iterations=5 --set parallel=hogwild
done
# Implicit feedback: ratings >= 4 are the positives; BPR beside implicit ALS and popularity.
imp=(--implicit 4 --eval-users 20000 --threads 2)
run "${s10[@]}" "${imp[@]}" --popularity true --set max_iterations=20 --case \
  --set max_iterations=20 --set bias_regularization=0
run "${s10[@]}" "${imp[@]}" --solver als --set max_iterations=10
