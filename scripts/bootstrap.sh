#!/usr/bin/env bash
# Installs what basin needs to build (and with --test, to test) and is missing:
#   1. the Debian packages listed in scripts/debian-packages.txt;
#   2. DuckDB: libduckdb.so and its C++ headers, from two pinned npm packages whose
#      sha512 integrity is checked, unpacked into .deps/ (git-ignored); the tarballs
#      are cached in ~/.cache/basin so another clone on this machine needs no download;
#   3. with --test: the Node packages the tests use (tests/e2e/package-lock.json).
# Safe to run again: each step is skipped when its result is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
with_test=0
[ "${1:-}" = "--test" ] && with_test=1

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

# --- 1. Debian packages ---------------------------------------------------------
missing=()
while read -r pkg; do
  case "$pkg" in ''|'#'*) continue ;; esac
  if [ "$pkg" = nodejs ] && command -v node >/dev/null && command -v npm >/dev/null; then
    continue  # any Node.js >= 18 with npm will do; do not replace one that is there
  fi
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done < "$root/scripts/debian-packages.txt"
if ! command -v npm >/dev/null; then missing+=(npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- 2. DuckDB (pinned pair: the C++ ABI changes between patch releases) ---------
deps="$root/.deps/duckdb"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/basin/npm"
lib_pkg="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
lib_tgz="duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz"
lib_sha="sha512-jBTL/WvfwxLToFa/pVHfT6elMtltJGnc3wSuxZD9OfMltit9YUdVFS37vBFQzXMT1Z8OWjtSjMh+zPKxOwHLHA=="
hdr_pkg="duckdb@1.4.4"
hdr_tgz="duckdb-1.4.4.tgz"
hdr_sha="sha512-hEJJ5hyVF0VLj3dmOLpsWrQR0b3d4Ykqtygm6iUXjHJDDnSqg/USKxcb5qvNrOhFYPgktayU6dXCtgPqcmmpog=="
stamp="$lib_sha $hdr_sha"

integrity() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

fetch() {  # fetch PACKAGE TARBALL EXPECTED_INTEGRITY -> path of the verified tarball
  local pkg=$1 tgz=$2 want=$3
  mkdir -p "$cache"
  if [ ! -f "$cache/$tgz" ] || [ "$(integrity "$cache/$tgz")" != "$want" ]; then
    echo "bootstrap: downloading $pkg" >&2
    rm -f "$cache/$tgz"
    (cd "$cache" && npm pack --silent "$pkg" >/dev/null)
  fi
  local got
  got=$(integrity "$cache/$tgz")
  if [ "$got" != "$want" ]; then
    rm -f "$cache/$tgz"
    echo "bootstrap: integrity mismatch for $pkg: expected $want, got $got" >&2
    exit 1
  fi
  echo "$cache/$tgz"
}

if [ ! -f "$deps/stamp" ] || [ "$(cat "$deps/stamp")" != "$stamp" ]; then
  lib=$(fetch "$lib_pkg" "$lib_tgz" "$lib_sha")
  hdr=$(fetch "$hdr_pkg" "$hdr_tgz" "$hdr_sha")
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  tar xzf "$lib" -C "$tmp" package/libduckdb.so
  tar xzf "$hdr" -C "$tmp" package/src/duckdb/src/include
  rm -rf "$deps" && mkdir -p "$deps/lib"
  mv "$tmp/package/libduckdb.so" "$deps/lib/"
  mv "$tmp/package/src/duckdb/src/include" "$deps/include"
  echo "$stamp" > "$deps/stamp"
  echo "bootstrap: DuckDB 1.4.4 ready in .deps/duckdb"
fi

# --- 3. Node packages for the tests ----------------------------------------------
if [ $with_test -eq 1 ]; then
  e2e="$root/tests/e2e"
  if [ ! -f "$e2e/node_modules/.package-lock.json" ] ||
     ! cmp -s "$e2e/package-lock.json" "$e2e/node_modules/.basin-lock"; then
    echo "bootstrap: installing test packages (npm ci)"
    (cd "$e2e" && npm ci --silent --no-audit --no-fund)
    cp "$e2e/package-lock.json" "$e2e/node_modules/.basin-lock"
  fi
fi
