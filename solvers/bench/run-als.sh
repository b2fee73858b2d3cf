#!/usr/bin/env bash
# Builds the bench module (-Pbench) and runs Spark MLlib ALS and mfserve's ALS side by side.
#   solvers/bench/run-als.sh            # MovieLens 100K u1, synthetic 1M and 10M (explicit),
#                                       # 10M implicit
#   solvers/bench/run-als.sh ARGS...    # one AlsVsSpark run with these arguments
# Data: ML_100K (default ../shared/data/ml-100k next to the repository) and SYNTH (default /tmp/synth) holding synth-1m.* and synth-10m.*
# made by shared/bench/gen_synth.py (see solvers/bench/README.md). Timed runs take the shared
# lock /tmp/bench.lock when flock is available. u1's settings (mfserve: plain λ 13, biases,
# λ_b 4; Spark: λ 0.14, its best, as for mfserve without biases) are the best of a 5-fold
# cross-validation on u1.base alone (mfctl eval u1.base --folds 5 --seed 7 --grid ...), never
# on u1.test; see solvers/bench/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$root" && mvn -B -q -Pbench -pl solvers/bench -am package -DskipTests -Dexec.skip=true)
fi
cp="$(cat "$here/target/classpath.txt"):$here/target/classes"
opens=()
for p in java.base/java.lang java.base/java.lang.invoke java.base/java.lang.reflect \
    java.base/java.io java.base/java.net java.base/java.nio java.base/java.util \
    java.base/java.util.concurrent java.base/java.util.concurrent.atomic \
    java.base/jdk.internal.ref java.base/sun.nio.ch java.base/sun.nio.cs \
    java.base/sun.security.action java.base/sun.util.calendar; do
  opens+=("--add-opens=$p=ALL-UNNAMED")
done
# --add-modules: ALS runs its Vector API kernels, as on a server given that flag (README).
java_cmd=(java --add-modules=jdk.incubator.vector "-Xmx${HEAP:-8g}" "${opens[@]}" -Djdk.reflect.useDirectMethodHandle=false
  -Dio.netty.tryReflectionSetAccessible=true -cp "$cp" io.mfserve.bench.AlsVsSpark)
lock=()
if command -v flock >/dev/null; then lock=(flock /tmp/bench.lock); fi

if [[ $# -gt 0 ]]; then
  exec "${lock[@]}" "${java_cmd[@]}" "$@"
fi
ml="${ML_100K:-$root/../shared/data/ml-100k}"
synth="${SYNTH:-/tmp/synth}"
"${lock[@]}" "${java_cmd[@]}" --dataset ml-100k-u1 --train "$ml/u1.base" --test "$ml/u1.test" \
  --rank 10 --iterations 20 --reg 13 --param weighted_lambda=false --param biases=true \
  --param bias_regularization=4 --spark-reg 0.14 --spark-blocks 2 --repeat 5
"${lock[@]}" "${java_cmd[@]}" --dataset synth-1m --train "$synth/synth-1m.train.tsv" \
  --test "$synth/synth-1m.test.tsv" --rank 10 --iterations 20 --reg 0.1
"${lock[@]}" "${java_cmd[@]}" --dataset synth-10m --train "$synth/synth-10m.train.tsv" \
  --test "$synth/synth-10m.test.tsv" --rank 10 --iterations 10 --reg 0.1
"${lock[@]}" "${java_cmd[@]}" --dataset synth-10m --train "$synth/synth-10m.train.tsv" \
  --test "$synth/synth-10m.test.tsv" --rank 10 --iterations 20 --reg 0.1 --implicit
