# Sourced (not run) by python/run-tests.sh and node/run-tests.sh once they have set $name: the
# part of the cross-language test runners that is the same for both.
#
# -DskipTests / -DskipITs skip the tests (passed in as MFSERVE_SKIP_*). `unavailable REASON`
# says why the tests cannot run and exits 0, or exits 1 when MFSERVE_REQUIRE_CROSS_LANGUAGE is
# set (CI sets it), so that missing tools never pass unnoticed there.

if [ "${MFSERVE_SKIP_TESTS:-}" = true ] || [ "${MFSERVE_SKIP_ITS:-}" = true ]; then
  echo "$name: skipped (-DskipTests or -DskipITs)"
  exit 0
fi

unavailable() {
  if [ -n "${MFSERVE_REQUIRE_CROSS_LANGUAGE:-}" ]; then
    echo "$name: FAILED: $1 (MFSERVE_REQUIRE_CROSS_LANGUAGE is set)" >&2
    exit 1
  fi
  echo "$name: SKIPPED: $1"
  exit 0
}
