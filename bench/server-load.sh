#!/usr/bin/env bash
# Load benchmark of the control plane: simulated shields on loopback against a real
# `cguard server`, on SQLite and on PostgreSQL. Defaults: 2,000 shields heartbeating
# every 10 s and 5,000 events/s in batches for 60 s, with a console user reading lists.
# Prints events sent/accepted/lost and p50/p99 latencies of heartbeat, ingest and list.
#   bench/server-load.sh [sqlite|postgres|both] [extra flags for the load generator]
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}; shift || true
scripts/start-services.sh >/dev/null
cargo build -q --release -p cguard
cargo build -q --release -p server --example load
backends=(sqlite postgres)
[ "$which" = both ] || backends=("$which")
for b in "${backends[@]}"; do
  target/release/examples/load --backend "$b" --cguard target/release/cguard "$@"
  echo
done
