#!/usr/bin/env bash
# The whole test suite. Called by `make test` once dependencies, services and test images
# are in place.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGUARD_IMAGES=${CGUARD_IMAGES:-$PWD/.cache/images}
cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.log
