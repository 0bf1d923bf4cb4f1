#!/usr/bin/env bash
# Runs every test with the servers they need (scripts/with-test-servers.sh):
#   1. unit tests of the release build (ctest),
#   2. the same unit tests under AddressSanitizer and UndefinedBehaviorSanitizer,
#   3. end-to-end tests that start the real basin binary (node --test),
#   4. the server-path end-to-end tests again against the ASan/UBSan binary, so a memory
#      error in a request handler fails the tests (the CTAS crash passed on release alone).
# Usage: scripts/run-tests.sh RELEASE_BUILD_DIR ASAN_BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
release=${1:-build/release}
asan=${2:-build/asan}
jobs=$(nproc)

run_all() {
  # An exported function runs in a new bash: the options above do not reach it, and without
  # them a failing ctest would be hidden by a passing node run after it.
  set -euo pipefail
  echo "== unit tests (release)"
  ctest --test-dir "$release" -j "$jobs" --output-on-failure --timeout 300
  echo "== unit tests (ASan + UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$asan" -j "$jobs" --output-on-failure --timeout 600
  echo "== end-to-end tests"
  BASIN_BIN="$root/$release/bin/basin" node --test --test-concurrency=1 "$root"/tests/e2e/*.test.mjs
  echo "== end-to-end tests of the server paths (ASan + UBSan binary)"
  # Leaks are the unit tests' concern; here an invalid access aborts the server.
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    BASIN_BIN="$root/$asan/bin/basin" node --test --test-concurrency=1 \
    "$root"/tests/e2e/{security,security_edge,security_auth,ctas,query_api,server,streams,sources}.test.mjs
}
export -f run_all
export release asan jobs root
"$root/scripts/with-test-servers.sh" bash -c run_all
