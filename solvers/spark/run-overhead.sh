#!/usr/bin/env bash
# What going through mfserve costs a Spark ALS fit: the same fit (same file, Spark settings,
# ALS parameters, local[2], heap) run by plain Spark in a JVM of its own (bench/
# PlainSparkAls.java, the plugin's own Spark jars) and by spark-als inside the server (fit by
# source_uri, bench/FitByUri.jsh), then mfserve's own als on the same split at Spark's settings
# (weighted λ, no biases). Fit time, CPU time (plain: its JVM's; mfserve: the server JVM's
# during the call) and held-out RMSE of each; overhead = mfserve / plain. On a shared machine
# the CPU seconds are the steadier measure: wall time there mostly measures the neighbours.
#   solvers/spark/run-overhead.sh [SET...]      # default: synth-1m synth-10m
# SET names SYNTH/SET.train.tsv and SYNTH/SET.test.tsv (SYNTH default /tmp/synth; made by
# ../shared/bench/gen_synth.py, see its README). ITERATIONS (10), RANK (10), REG (0.1),
# BLOCKS (0: Spark's 10), MASTER (local[2]), HEAP (6g: the server's and the plain JVM's),
# REPEAT (2 fits each: the first starts the Spark session, later ones reuse it), EXTRA (1:
# also spark-als without collect_seen and mfserve's als; 0 skips both).
# Needs the built jars and plugin (mvn -B package -DskipTests -Dexec.skip=true). Each timed
# run takes /tmp/bench.lock when flock is there, unless LOCKED=1 (the caller holds it for the
# whole script: flock /tmp/bench.lock env LOCKED=1 solvers/spark/run-overhead.sh, which keeps
# plain and mfserve runs back to back on a busy machine).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
synth="${SYNTH:-/tmp/synth}"
iters="${ITERATIONS:-10}"; rank="${RANK:-10}"; reg="${REG:-0.1}"; blocks="${BLOCKS:-0}"
master="${MASTER:-local[2]}"; heap="${HEAP:-6g}"; repeat="${REPEAT:-2}"; extra="${EXTRA:-1}"
# PLUGIN_DIR, SERVER_JAR, MFCTL_JAR: a copy of the built ones, to rebuild while this runs.
plugin="${PLUGIN_DIR:-$here/target/plugin}"
server_jar="${SERVER_JAR:-$root/server/target/mfserve-server.jar}"
mfctl="${MFCTL_JAR:-$root/client/target/mfctl.jar}"
# shellcheck source-path=SCRIPTDIR source=bench-common.sh
. "$here/bench-common.sh"
work="$(mktemp -d /tmp/mfserve-spark-overhead.XXXXXX)"
lock=()
if [[ "${LOCKED:-0}" != 1 ]] && command -v flock >/dev/null; then lock=(flock /tmp/bench.lock); fi
echo "# $(date -u +%FT%TZ) rank $rank, $iters iterations, λ $reg, blocks $blocks, $master," \
  "heap $heap; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"

for set in ${*:-synth-1m synth-10m}; do
  train="$synth/$set.train.tsv"; test="$synth/$set.test.tsv"
  echo "## $set: $(wc -l < "$train") train, $(wc -l < "$test") test lines"
  # Plain Spark: one JVM, REPEAT fits in one session (the first one starts it).
  "${lock[@]}" java -Xmx"$heap" "${opens[@]}" -cp "$lib/*" "$here/bench/PlainSparkAls.java" \
    "$train" "$test" "$master" "$rank" "$iters" "$reg" "$blocks" 42 "$repeat" \
    2> "$work/plain-$set.log" | sed "s/^RESULT/RESULT set=$set load=$(cut -d' ' -f1 /proc/loadavg)/"

  # spark-als in a fresh server: REPEAT fits (the first starts the session), then one without
  # collect_seen (what plain Spark does not do either), then als.
  port="$(free_port)"
  # --ann-min-rows 0: no approximate index is built after a fit; with 200,000 users one would
  # be (46 s on both cores for synth-10m), overlapping the next fit and counting in its time.
  java -Xmx"$heap" -jar "$server_jar" --port "$port" --plugins-dir "$plugin" --no-warmup \
    --memory-budget 4g --ann-min-rows 0 > "$work/server-$set.log" 2>&1 &
  pids+=($!)
  wait_for "$work/server-$set.log" "listening on port" 120
  spid="${pids[-1]}"
  cpu() { # the server JVM's CPU seconds so far (utime + stime)
    awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' \
      "/proc/$spid/stat"
  }
  fit() { # solver model seen
    local c0; c0="$(cpu)"
    "${lock[@]}" jshell --class-path "$mfctl" -R-Dtarget="localhost:$port" -R-Dsolver="$1" \
      -R-Dmodel="$2" -R-Dseen="$3" -R-Dmaster="$master" -R-Dtrain="$train" -R-Dtest="$test" \
      -R-Diterations="$iters" -R-Drank="$rank" -R-Dreg="$reg" -R-Dblocks="$blocks" \
      -R-Dseed=42 -R-Xmx4g "$here/bench/FitByUri.jsh" | grep RESULT \
      | sed "s/^RESULT/RESULT set=$set load=$(cut -d' ' -f1 /proc/loadavg)/" | tr -d '\n'
    echo " server_cpu_s=$(awk -v a="$(cpu)" -v b="$c0" 'BEGIN { printf "%.2f", a - b }')"
  }
  for n in $(seq 1 "$repeat"); do fit spark-als "spark-$n" true; done
  if [[ "$extra" == 1 ]]; then
    fit spark-als spark-noseen false
    fit als als-1 -
  fi
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done
echo "# logs in $work; load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
