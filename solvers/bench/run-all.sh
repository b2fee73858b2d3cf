#!/usr/bin/env bash
# shellcheck disable=SC2317 # the area_* functions are called by name: "area_$a"
# One report of every benchmark the project quotes (issue 22, "One report"): ALS vs Spark MLlib,
# SGD (vs LibMF with --libmf), NMF vs scikit-learn and gensim, the Fit call as a client sees it,
# serving tails (pinned), warm-up, TLS/tokens, upload. Each sub-benchmark is its own script,
# called as it is; its log is kept and parsed by solvers/bench/report_rows.py into rows of one
# Markdown table (figure, peer's figure from the same run, ratio, target, met?).
#   solvers/bench/run-all.sh [--quick] [--out FILE] [--only AREA[,AREA...]] [--ml100k DIR]
#       [--synth DIR] [--libmf DIR] [--no-build] [--no-lock]
# Areas: als sgd nmf fitpath serving warmup security upload (default: all; --quick leaves out
# security). Output: --out (default solvers/bench/target/report.md), logs in report-logs/ beside
# it. A failed sub-benchmark is a row saying so; the report is written anyway.
# --ml100k: MovieLens 100K (default ../shared/data/ml-100k beside the repository); --synth: the
# synthetic sets (default $SYNTH or /tmp/synth, as the sub-scripts), made with
# ../shared/bench/gen_synth.py when missing; --libmf: a directory with LibMF's mf-train and
# mf-predict built from its source (never built or fetched here); --no-build: use the jars as
# they are; --no-lock: do not take /tmp/bench.lock (by default the whole run holds it, and the
# sub-scripts' own flock on it passes through; an ancestor already holding it is detected).
set -euo pipefail
# The body is one brace group, read whole before it runs: editing this file during a run of
# half an hour cannot change the run.
{
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
quick=0
out="$here/target/report.md"
only=""
ml100k="$root/../shared/data/ml-100k"
synth="${SYNTH:-/tmp/synth}"
libmf=""
build=1
lock=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --ml100k) ml100k="$2"; shift 2 ;;
    --synth) synth="$2"; shift 2 ;;
    --libmf) libmf="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-lock) lock=0; shift ;;
    -h|--help) sed -n "3,18p" "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
all_areas=(als sgd nmf fitpath serving warmup security upload)
if [[ -n "$only" ]]; then
  IFS=, read -ra areas <<< "$only"
  for a in "${areas[@]}"; do
    [[ " ${all_areas[*]} " == *" $a "* ]] \
      || { echo "unknown area $a (areas: ${all_areas[*]})" >&2; exit 2; }
  done
elif (( quick )); then
  areas=(als sgd nmf fitpath serving warmup upload)
else
  areas=("${all_areas[@]}")
fi
# Paths given relative to where the command was typed stay so after the cd below.
abs() { [[ "$1" == /* ]] && echo "$1" || echo "$PWD/$1"; }
out="$(abs "$out")"; ml100k="$(abs "$ml100k")"; synth="$(abs "$synth")"
[[ -z "$libmf" ]] || libmf="$(abs "$libmf")"
mkdir -p "$(dirname "$out")"
logs="$(dirname "$out")/report-logs"
cd "$root"

# --- the shared lock -------------------------------------------------------------------------
# holds_lock: whether this process or an ancestor (e.g. `flock /tmp/bench.lock run-all.sh`)
# holds the flock on /tmp/bench.lock, from /proc/locks (taking it again would wait forever).
holds_lock() {
  [[ -e /tmp/bench.lock ]] || return 1
  local inode pid holders
  inode="$(stat -c %i /tmp/bench.lock)"
  holders=" $(awk -v i=":$inode\$" '$2 == "FLOCK" && $6 ~ i { print $5 }' /proc/locks \
    | tr '\n' ' ')"
  pid=$$
  while [[ "$pid" -gt 1 ]]; do
    [[ "$holders" == *" $pid "* ]] && return 0
    pid="$(awk '$1 == "PPid:" { print $2 }' "/proc/$pid/status")"
  done
  return 1
}
if (( lock )) && ! holds_lock; then
  exec 9> /tmp/bench.lock
  echo "waiting for /tmp/bench.lock" >&2
  flock 9
fi
# The logs of the last run are replaced only once this run holds the lock.
rm -rf "$logs"
mkdir -p "$logs"
rows="$logs/rows.tsv"
: > "$rows"
if (( lock )); then
  # The sub-scripts take the lock per run (flock /tmp/bench.lock CMD); this run already holds
  # it, so a flock on that file runs CMD at once. serving/ and security/ skip theirs with
  # BENCH_LOCKED. Other flock uses go to the real one.
  real_flock="$(command -v flock)"
  mkdir -p "$logs/bin"
  cat > "$logs/bin/flock" << EOF
#!/usr/bin/env bash
opts=()
while [[ "\${1:-}" == -* ]]; do opts+=("\$1"); shift; done
if [[ "\${1:-}" == /tmp/bench.lock ]]; then shift; exec "\$@"; fi
exec "$real_flock" "\${opts[@]}" "\$@"
EOF
  chmod +x "$logs/bin/flock"
  export PATH="$logs/bin:$PATH" BENCH_LOCKED=1
fi

# --- the machine -----------------------------------------------------------------------------
load() { cut -d' ' -f1-3 /proc/loadavg; }
started="$(date -u +%FT%TZ)"
t_start=$SECONDS
load_before="$(load)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
cores="$(nproc) cores online of $(grep -c '^processor' /proc/cpuinfo)"
mem="$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
jvm="$(java -version 2>&1 | head -1)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit="$commit (with uncommitted changes)"
fi

# note AREA TEXT: a row that is a message (a failure, a part left out), under the area's name
# as report_rows.py writes it.
declare -A shown=([als]=ALS [sgd]=SGD [nmf]=NMF [fitpath]="Fit path" [serving]=Serving
  [warmup]=Warm-up [security]=TLS/tokens [upload]=Upload)
note() { printf '%s\t%s\t\t\t\t\t\t\n' "${shown[$1]}" "$2" >> "$rows"; }
# step AREA NAME PARSER-CONTEXT... -- COMMAND...: runs COMMAND with its output in
# report-logs/AREA-NAME.log, then adds the rows its parser finds; a failure is a row.
step() {
  local area="$1" name="$2" ctx=() log t0 rc=0
  shift 2
  while [[ "$1" != -- ]]; do ctx+=("$1"); shift; done
  shift
  log="$logs/$area-$name.log"
  t0=$SECONDS
  echo "== $(date -u +%T) $area $name: $*" | tee -a "$logs/run-all.log"
  { echo "# $*"; echo "# $(date -u +%FT%TZ) load $(load)"; } > "$log"
  "$@" >> "$log" 2>&1 9>&- || rc=$?  # 9: the lock, not for servers left behind
  echo "# $(date -u +%FT%TZ) load $(load), exit $rc, $((SECONDS - t0)) s" >> "$log"
  echo "   exit $rc after $((SECONDS - t0)) s" | tee -a "$logs/run-all.log"
  if (( rc != 0 )); then
    note "$area" "$name: FAILED (exit $rc after $((SECONDS - t0)) s; see report-logs/${log##*/})"
  fi
  python3 "$here/report_rows.py" "$area" "$log" "name=$name" "${ctx[@]}" >> "$rows" \
    || note "$area" "$name: the parser failed on report-logs/${log##*/}"
}

# --- data and build --------------------------------------------------------------------------
synth_set() {  # synth_set NAME USERS ITEMS NNZ SEED: gen_synth.py's set, made when missing
  [[ -f "$synth/$1.train.tsv" ]] && return 0
  mkdir -p "$synth"
  echo "making $synth/$1 with gen_synth.py" | tee -a "$logs/run-all.log"
  /usr/bin/python3 "$root/../shared/bench/gen_synth.py" --users "$2" --items "$3" --nnz "$4" \
    --rank 10 --seed "$5" --out "$synth/$1" > "$logs/gen-$1.log" 2>&1
}
want() { [[ " ${areas[*]} " == *" $1 "* ]]; }
if (( build )); then
  echo "building (mvn -Pbench package)" | tee -a "$logs/run-all.log"
  mvn -B -q -o -Pbench package -DskipTests -Dexec.skip=true > "$logs/build.log" 2>&1 || {
    echo "the build failed: see $logs/build.log" >&2; exit 2; }
fi
export SKIP_BUILD=1 ML_100K="$ml100k" SYNTH="$synth"
if want als || want sgd; then synth_set synth-1m 20000 5000 1000000 1; fi
if (( ! quick )) && { want als || want sgd || want serving; } || [[ -n "$libmf" ]]; then
  synth_set synth-10m 200000 20000 10000000 2
fi

# --- the areas -------------------------------------------------------------------------------
# Each area_* function is one sub-benchmark as the project quotes it; --quick runs smaller data
# or fewer repetitions where a script allows it.
area_als() {
  local als="$here/run-als.sh" s1=(--train "$synth/synth-1m.train.tsv"
    --test "$synth/synth-1m.test.tsv") s10=(--train "$synth/synth-10m.train.tsv"
    --test "$synth/synth-10m.test.tsv")
  step als ml-100k-u1 -- "$als" --dataset ml-100k-u1 --train "$ml100k/u1.base" \
    --test "$ml100k/u1.test" --rank 10 --iterations 20 --reg 13 --param weighted_lambda=false \
    --param biases=true --param bias_regularization=4 --spark-reg 0.14 --spark-blocks 2 \
    --repeat "$( ((quick)) && echo 3 || echo 5)"
  if (( quick )); then
    step als synth-1m-rank10 gflops=1 -- "$als" --dataset synth-1m "${s1[@]}" --rank 10 \
      --iterations 10 --reg 0.1
    return
  fi
  step als synth-1m-rank10 gflops=1 -- "$als" --dataset synth-1m "${s1[@]}" --rank 10 \
    --iterations 20 --reg 0.1
  step als synth-10m-rank10 time_target=25 rmse_target=0.727 gflops=1 -- "$als" \
    --dataset synth-10m "${s10[@]}" --rank 10 --iterations 10 --reg 0.1
  step als synth-10m-implicit seconds_target=4 -- "$als" --dataset synth-10m "${s10[@]}" \
    --rank 10 --iterations 20 --reg 0.1 --implicit
  # The GFLOP/s targets: mfserve alone (Spark's rank-64 fit would take the better part of an
  # hour here), 5 sweeps, the median sweep's rate; 63 GFLOP/s = 40% of 157 (issue 22).
  step als synth-10m-rank64 gflops=1 gflops_target=63 -- "$als" --dataset synth-10m \
    "${s10[@]}" --rank 64 --iterations 5 --reg 0.1 --solvers mfserve --repeat 1
  step als synth-10m-rank64-implicit gflops=1 gflops_target=63 -- "$als" --dataset synth-10m \
    "${s10[@]}" --rank 64 --iterations 5 --reg 0.1 --implicit --solvers mfserve --repeat 1
  step als synth-10m-rank128 gflops=1 -- "$als" --dataset synth-10m "${s10[@]}" --rank 128 \
    --iterations 3 --reg 0.1 --solvers mfserve --repeat 1
}

area_sgd() {
  local sgd="$here/run-sgd.sh" data
  if (( quick )); then data="synth-1m"; else data="synth-10m"; fi
  step sgd "$data" -- "$sgd" --train "$synth/$data.train.tsv" --test "$synth/$data.test.tsv" \
    --k 10 --threads 2 --runs 3 --set max_iterations=20
  if [[ -z "$libmf" ]]; then
    note sgd "LibMF not run: give --libmf DIR (mf-train, mf-predict built from its source)"
  elif ! grep -q 'libmf DIR' "$sgd"; then
    note sgd "LibMF not run: run-sgd.sh on this branch has no 'libmf DIR' mode"
  else
    step sgd libmf -- "$sgd" libmf "$libmf" "$( ((quick)) && echo 1 || echo 3)"
  fi
}

area_nmf() {
  step nmf udata-dense -- env WARMUPS="$( ((quick)) && echo 2 || echo 5)" \
    UDATA="$ml100k/u.data" "$here/nmf/run_bench.sh"
}

area_fitpath() {
  if ! grep -q fitpath "$here/nmf/run_bench.sh"; then
    note fitpath "not available: nmf/run_bench.sh on this branch has no 'fitpath' mode"
    return
  fi
  step fitpath inline -- env UDATA="$ml100k/u.data" "$here/nmf/run_bench.sh" fitpath
}

area_serving() {
  # Quick: one run of the tail phase on the same 200,000 x 20,000 x 64 model fitted from 1M
  # entries instead of 10M (a fit and a seen-items index 10 times smaller), no predict/health.
  if (( quick )); then
    step serving tails -- env PIN=1 PHASES="tails" RUNS=1 NNZ=1000000 SERVER_SIDE=1 \
      "$here/serving/run_bench.sh"
  else
    step serving tails-predict -- env PIN=1 PHASES="tails predict" RUNS=3 SERVER_SIDE=1 \
      "$here/serving/run_bench.sh"
  fi
}

area_warmup() {
  step warmup first-fits -- "$here/warmup/run_bench.sh" --data "$ml100k" \
    --rounds "$( ((quick)) && echo 1 || echo 3)"
}

area_security() {
  step security tls-tokens -- "$here/security/run_bench.sh"
}

area_upload() {
  local s
  for s in "$here/upload/run_bench.sh" "$here/run-upload.sh"; do
    if [[ -x "$s" ]]; then
      step upload loopback -- "$s"
      return
    fi
  done
  note upload "not available: no upload benchmark script (upload/run_bench.sh) on this branch"
}

for a in "${areas[@]}"; do
  "area_$a"
done
if (( quick )) && [[ -z "$only" ]]; then
  note security "left out by --quick (three servers, about 3 minutes)"
fi

# --- the report ------------------------------------------------------------------------------
elapsed=$((SECONDS - t_start))
{
  echo "# mfserve benchmark report"
  echo
  echo "- command: \`solvers/bench/run-all.sh$( ((quick)) && echo " --quick")$(
    [[ -n "$only" ]] && echo " --only $only")$([[ -n "$libmf" ]] && echo " --libmf DIR")\`," \
    "$( ((quick)) && echo quick || echo full) mode, $((elapsed / 60)) min $((elapsed % 60)) s"
  echo "- started $started, finished $(date -u +%FT%TZ); commit $commit"
  echo "- machine: $cpu, $cores, $mem memory; $jvm"
  echo "- load average before: $load_before; after: $(load)"
  echo "- peers' figures come from the same run; ratio = mfserve's over the peer's (times:" \
    "lower is better for mfserve); raw logs in \`report-logs/\`"
  echo
  echo "| area | figure | mfserve | peer | peer's figure (same run) | ratio | target | met? |"
  echo "|---|---|---|---|---|---|---|---|"
  sed 's/|/\\|/g; s/\t/ | /g; s/^/| /; s/$/ |/' "$rows"
} > "$out"
echo "report: $out ($((elapsed / 60)) min $((elapsed % 60)) s)" | tee -a "$logs/run-all.log"
}; exit
