#!/usr/bin/env bash
# Benchmark of the server's image security service (release build, in process):
#   - sync of a real registry holding 300 repositories x 3 tags;
#   - 1,000 stored results matched again after the vulnerability database is replaced;
#   - scan throughput of the worker pool (2 workers) beside `cguard scan` run in a loop.
# On SQLite and PostgreSQL.   bench/image-service.sh [sqlite|postgres|both] [extra flags]
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}; shift || true
scripts/start-services.sh >/dev/null
scripts/build-test-images.sh >/dev/null
cargo build -q --release -p cguard
cargo build -q --release -p server --example image_service
backends=(sqlite postgres)
[ "$which" = both ] || backends=("$which")
for b in "${backends[@]}"; do
  target/release/examples/image_service --backend "$b" --cguard target/release/cguard "$@"
done
