#!/usr/bin/env bash
# Inventory benchmark (see inventory.py): the minbase test image, then a generated image of
# 1 GiB in 100,000 files for peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
images=${CGUARD_IMAGES:-$PWD/.cache/images}
[ -s "$images/minbase.tar" ] || scripts/build-test-images.sh
[ -s "$images/big.tar" ] || python3 bench/make_big_image.py "$images/big.tar"
python3 bench/inventory.py --runs "${RUNS:-5}" "$images/minbase.tar" "$images/big.tar"
