#!/usr/bin/env bash
# Soak (issue 20): mixed traffic with model churn against the real server jar for SECONDS
# (default 600), then its heap after GC, threads and file descriptors against their baseline;
# the figures are printed (client/cli/src/test/java/io/mfserve/client/e2e/SoakIT.java says what it
# does and checks). mvn verify runs the same test for 30 s.
#   solvers/bench/reliability/soak.sh            # 10 minutes
#   SECONDS_=120 solvers/bench/reliability/soak.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
seconds="${SECONDS_:-600}"
log="$(mktemp)"
status=0
mvn -B -o -pl client/cli -am verify -Dexec.skip=true -Dfuzz.skip=true \
  -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=SoakIT \
  -Dmfserve.soak.seconds="$seconds" > "$log" 2>&1 || status=$?
grep -a -E "^soak [0-9]+ s|^  (baseline|after|thread kinds)|Tests run:.*SoakIT|unexpected failures|heap after GC .*→" \
  "$log" || true
[[ $status -eq 0 ]] || echo "soak failed (exit $status); full log: $log"
exit "$status"
