#!/usr/bin/env bash
# Runs every test: unit, interop with real FRR/BIRD/GoBGP, kernel NAT, etcd, failover.
# Installs what it needs first. Tests that need root or a daemon say so in their name.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npx tsc -p .
# only compiled tests whose TypeScript source still exists (dist/ may hold stale ones)
files=$(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort | while read -r f; do
  src=${f#dist/}; [ -f "${src%.js}.ts" ] && echo "$f"; done)
[ -n "$files" ] || { echo "no tests found" >&2; exit 1; }
exec node --enable-source-maps --test --test-concurrency=2 --test-timeout=300000 $files
