#!/usr/bin/env bash
# Runs the query benchmark (bench/query_bench.cc) against a build and prints its markdown
# tables. Usage: bench/run-query.sh [BUILD_DIR] [QUERY_BENCH_FLAG...]   (BUILD_DIR defaults
# to build/release; `query_bench --help` lists the flags, `--quick` is a 1M-row smoke run).
# It drives BUILD_DIR/bin/basin (init, token, crawler, serve) over a lake generated in
# bench/data/query-lake (git-ignored, reused by the next run). `make bench-query` runs it
# under scripts/with-test-servers.sh, whose S3 API server (bucket basin-bench) the S3 suite
# uses; without it that part is skipped. bench/run.sh calls it last, with QUERY_BENCH_FLAGS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/release}
[ $# -gt 0 ] && shift
case $build in
  /*) ;;
  *) build=$root/$build ;;
esac
for program in query_bench basin; do
  if [ ! -x "$build/bin/$program" ]; then
    echo "bench/run-query.sh: $build/bin/$program is missing: build it first (make build)" >&2
    exit 1
  fi
done
exec "$build/bin/query_bench" --basin "$build/bin/basin" --data-dir "$root/bench/data" "$@"
