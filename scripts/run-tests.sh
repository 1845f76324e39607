#!/usr/bin/env bash
# The whole test suite. Called by `make test` once dependencies, services and test images
# are in place.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGUARD_IMAGES=${CGUARD_IMAGES:-$PWD/.cache/images}
# Incremental compilation only pays off when editing; here it would double the disk used.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
cargo test --workspace --no-run
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.log
# The served OpenAPI document against the server, on both databases.
scripts/schemathesis.sh sqlite
scripts/schemathesis.sh postgres
