#!/usr/bin/env bash
# spark-als through mfserve, on local[2] and on a Spark standalone cluster on loopback (a
# master and one worker started here as separate JVMs from the plugin's own Spark jars), beside
# mfserve's own als; fit time and held-out RMSE of each; on the cluster, plain Spark's own fit
# (bench/PlainSparkAls.java) first, twice, for the overhead there. Needs the built server jar,
# mfctl.jar and plugin directory (mvn -B package -DskipTests from the repository root).
#   solvers/spark/run-bench.sh TRAIN.tsv TEST.tsv [ITERATIONS] [RANK]
# TRAIN/TEST: 'user<TAB>item<TAB>rating' lines (shared/bench/gen_synth.py). MODES (default
# "local cluster als") picks the runs; BLOCKS sets num_blocks (default 0: Spark's 10).
# Timed runs take /tmp/bench.lock when flock is there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
train="$(realpath "$1")"; test="$(realpath "$2")"; iters="${3:-10}"; rank="${4:-10}"
# PLUGIN_DIR, SERVER_JAR, MFCTL_JAR: a copy of the built ones, to rebuild while this runs.
plugin="${PLUGIN_DIR:-$here/target/plugin}"
server_jar="${SERVER_JAR:-$root/server/target/mfserve-server.jar}"
mfctl="${MFCTL_JAR:-$root/client/target/mfctl.jar}"
# shellcheck source-path=SCRIPTDIR source=bench-common.sh
. "$here/bench-common.sh"
work="$(mktemp -d /tmp/mfserve-spark-bench.XXXXXX)"
lock=()
if command -v flock >/dev/null; then lock=(flock /tmp/bench.lock); fi

port="$(free_port)"
# --ann-min-rows 0: no approximate index is built after a fit (with 200,000 users one would be,
# overlapping the next fit and counting in its time).
java -Xmx"${HEAP:-8g}" -jar "$server_jar" --port "$port" --plugins-dir "$plugin" --no-warmup \
  --memory-budget 4g --ann-min-rows 0 > "$work/server.log" 2>&1 &
pids+=($!)
wait_for "$work/server.log" "listening on port" 120

fit() { # master-or-als model
  local solver=spark-als
  [[ "$1" == als ]] && solver=als
  "${lock[@]}" jshell --class-path "$mfctl" -R-Dtarget="localhost:$port" -R-Dsolver="$solver" \
    -R-Dmodel="$2" -R-Dmaster="$1" -R-Dtrain="$train" -R-Dtest="$test" -R-Diterations="$iters" \
    -R-Drank="$rank" -R-Dblocks="${BLOCKS:-0}" -R-Xmx4g "$here/bench/FitByUri.jsh" | grep RESULT
}

for mode in ${MODES:-local cluster als}; do
  case "$mode" in
    local) fit 'local[2]' local-1; fit 'local[2]' local-2 ;;
    als) fit als als-1 ;;
    cluster)
      # A standalone cluster on loopback: Spark's Master and Worker from the plugin's jars.
      # The worker starts executors with SPARK_HOME/jars as their classpath.
      mkdir -p "$work/spark-home" && ln -sfn "$lib" "$work/spark-home/jars"
      mport="$(free_port)"
      SPARK_HOME="$work/spark-home" SPARK_SCALA_VERSION=2.13 java -Xmx512m "${opens[@]}" \
        -cp "$lib/*" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$mport" \
        --webui-port "$(free_port)" > "$work/master.log" 2>&1 &
      pids+=($!)
      wait_for "$work/master.log" "I have been elected leader" 60
      SPARK_HOME="$work/spark-home" SPARK_SCALA_VERSION=2.13 java -Xmx512m "${opens[@]}" \
        -cp "$lib/*" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 2 \
        --memory "${WORKER_MEMORY:-6g}" --webui-port "$(free_port)" --work-dir "$work/worker" \
        "spark://127.0.0.1:$mport" > "$work/worker.log" 2>&1 &
      pids+=($!)
      wait_for "$work/worker.log" "Successfully registered with master" 60
      # Plain Spark's own fit on the same cluster first (its application ends with its JVM;
      # the server's session would hold the worker's cores for its idle time).
      "${lock[@]}" java -Xmx"${HEAP:-8g}" "${opens[@]}" -cp "$lib/*" \
        "$here/bench/PlainSparkAls.java" "$train" "$test" "spark://127.0.0.1:$mport" "$rank" \
        "$iters" 0.1 "${BLOCKS:-0}" 42 2 2> "$work/plain-cluster.log" | grep RESULT
      fit "spark://127.0.0.1:$mport" cluster-1
      fit "spark://127.0.0.1:$mport" cluster-2
      grep -h "ExecutorRunner\|Launch command" "$work/worker.log" | head -2 | cut -c1-200 || true
      ;;
  esac
done
echo "logs in $work"
