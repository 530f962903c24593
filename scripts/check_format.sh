#!/usr/bin/env bash
# Fails if any tracked C++ file differs from clang-format's output (.clang-format: Google base).
set -uo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cc' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find src tests tools bench -name '*.cc' -o -name '*.h')
bad=$(echo "$files" | xargs clang-format --dry-run 2>&1 | grep -oE '^[^:]+:[0-9]+:[0-9]+: warning' | cut -d: -f1 | sort -u)
if [ -n "$bad" ]; then
  echo "format: these files need clang-format -i:"
  echo "$bad"
  exit 1
fi
echo "format: $(echo "$files" | wc -l) files clean"
