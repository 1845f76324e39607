#!/usr/bin/env bash
# Benchmark of the views across images (release build, in process): 2,000 image versions
# with 250 real findings each (500,000), on SQLite and PostgreSQL: latency of the summary
# with TOP 5, list pages, filters, search and the catalogue's counts.
#   bench/vuln-views.sh [sqlite|postgres|both] [--versions N] [--findings F] [--rounds R]
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}; shift || true
scripts/start-services.sh >/dev/null
scripts/build-test-images.sh >/dev/null
cargo build -q --release -p server --example vuln_views
backends=(sqlite postgres)
[ "$which" = both ] || backends=("$which")
for b in "${backends[@]}"; do
  target/release/examples/vuln_views --backend "$b" "$@"
done
