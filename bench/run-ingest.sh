#!/usr/bin/env bash
# Runs the stream ingest benchmark (bench/ingest_bench.cc) against a build and prints its
# markdown tables. Usage: bench/run-ingest.sh [BUILD_DIR] [INGEST_BENCH_FLAG...]
# (BUILD_DIR defaults to build/release; `ingest_bench --help` lists the flags, `--quick` is
# a smoke run of a few seconds). It starts BUILD_DIR/bin/basin serve on fresh homes (local
# lake, SQLite) in a temp folder, which is removed at the end. `make bench-ingest` runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/release}
[ $# -gt 0 ] && shift
case $build in
  /*) ;;
  *) build=$root/$build ;;
esac
for program in ingest_bench basin; do
  if [ ! -x "$build/bin/$program" ]; then
    echo "bench/run-ingest.sh: $build/bin/$program is missing: build it first (make build)" >&2
    exit 1
  fi
done
exec "$build/bin/ingest_bench" --basin "$build/bin/basin" "$@"
