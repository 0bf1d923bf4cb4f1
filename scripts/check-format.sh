#!/usr/bin/env bash
# Fails (listing the files) when clang-format would change any C++ file of the repository;
# `make format` rewrites them. Run first by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=()
while IFS= read -r file; do
  clang-format --dry-run -Werror "$file" >/dev/null 2>&1 || unformatted+=("$file")
done < <(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc' 'bench/*.h')
if ((${#unformatted[@]} > 0)); then
  echo "clang-format would change ${#unformatted[@]} file(s); run 'make format':" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
echo "formatting: every C++ file is as clang-format writes it"
