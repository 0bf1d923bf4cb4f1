#!/usr/bin/env bash
# Runs the crawler benchmark (bench/crawl_bench.cc) against a build and prints its markdown
# tables. Usage: bench/run-crawl.sh [BUILD_DIR] [CRAWL_BENCH_FLAG...]   (BUILD_DIR defaults
# to build/release; `crawl_bench --help` lists the flags). bench/run.sh calls it after the
# engine benchmark, passing CRAWL_BENCH_FLAGS. Under scripts/with-test-servers.sh the S3
# runs use its S3 API server (bucket basin-bench); without it they are skipped.
# The generated local lake stays in bench/data (git-ignored) for the next run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/release}
[ $# -gt 0 ] && shift
case $build in
  /*) ;;
  *) build=$root/$build ;;
esac
if [ ! -x "$build/bin/crawl_bench" ]; then
  echo "bench/run-crawl.sh: $build/bin/crawl_bench is missing: build it first (make build)" >&2
  exit 1
fi
exec "$build/bin/crawl_bench" --data-dir "$root/bench/data" "$@"
