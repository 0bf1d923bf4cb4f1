#!/usr/bin/env bash
# Runs a command with the servers the tests need, on loopback ports picked at start,
# and stops them afterwards, also when the command fails or is interrupted.
#   S3 API server (@20minutes/s3rver, verifies SigV4): BASIN_TEST_S3_ENDPOINT,
#   BASIN_TEST_S3_BUCKET, BASIN_TEST_S3_ACCESS_KEY, BASIN_TEST_S3_SECRET_KEY.
# Usage: scripts/with-test-servers.sh COMMAND [ARG...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/basin-test-servers.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/s3"
NODE_OPTIONS=--openssl-legacy-provider node "$root/tests/e2e/s3rver.mjs" "$work/s3" \
  basin-test basin-bench > "$work/s3rver.out" 2> "$work/s3rver.err" &
pids+=($!)
for _ in $(seq 1 100); do
  [ -s "$work/s3rver.out" ] && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "with-test-servers: the S3 API server did not start:" >&2
    cat "$work/s3rver.err" >&2
    exit 1
  fi
  sleep 0.1
done
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/s3rver.out")
[ -n "$port" ] || { echo "with-test-servers: no port from the S3 API server" >&2; exit 1; }
export BASIN_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
export BASIN_TEST_S3_BUCKET=basin-test
export BASIN_TEST_S3_ACCESS_KEY=S3RVER
export BASIN_TEST_S3_SECRET_KEY=S3RVER
echo "with-test-servers: S3 API server at $BASIN_TEST_S3_ENDPOINT" >&2

"$@"
