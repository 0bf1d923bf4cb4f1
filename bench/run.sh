#!/usr/bin/env bash
# Runs basin's benchmarks against a build and prints their markdown tables.
# Usage: bench/run.sh [BUILD_DIR] [ENGINE_BENCH_FLAG...]   (BUILD_DIR defaults to build/release)
# `make bench` runs it under scripts/with-test-servers.sh, whose S3 API server (bucket
# basin-bench) the lake-s3 path reads; without it that path is skipped.
# Generated data stays in bench/data (git-ignored) for the next run; delete it to regenerate.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/release}
[ $# -gt 0 ] && shift
case $build in
  /*) ;;
  *) build=$root/$build ;;
esac
if [ ! -x "$build/bin/engine_bench" ]; then
  echo "bench/run.sh: $build/bin/engine_bench is missing: build it first (make build)" >&2
  exit 1
fi
"$build/bin/engine_bench" --data-dir "$root/bench/data" "$@"
# Then the crawler benchmark (bench/run-crawl.sh); CRAWL_BENCH_FLAGS="--scales 10000" passes flags.
echo
# shellcheck disable=SC2086
"$root/bench/run-crawl.sh" "$build" ${CRAWL_BENCH_FLAGS:-}
# Then the query benchmark (bench/run-query.sh); QUERY_BENCH_FLAGS="--quick" passes flags.
echo
# shellcheck disable=SC2086
"$root/bench/run-query.sh" "$build" ${QUERY_BENCH_FLAGS:-}
# Then the stream write-ahead log benchmark (bench/wal_bench.cc); WAL_BENCH_FLAGS passes flags.
echo
# shellcheck disable=SC2086
"$build/bin/wal_bench" ${WAL_BENCH_FLAGS:-}
