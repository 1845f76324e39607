#!/usr/bin/env bash
# Vulnerability database benchmark: build time from the real feeds in ../shared/vulndata
# (or $CGUARD_VULNDATA), file size, open time, the time to match a 1,000-package inventory
# after open (goal: under 20 ms), and re-matching 1,000 stored SBOMs. Release builds.
# The matching figures come from crates/vulndb/examples/match_bench.rs, which says how
# its inventory is made.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${CGUARD_VULNDATA:-$PWD/../shared/vulndata}
[ -f "$data/debian/tracker.json" ] || { echo "no vulnerability data in $data (set CGUARD_VULNDATA)" >&2; exit 1; }
runs=${RUNS:-5}

# Cargo rebuilds only what changed.
cargo build --release --quiet -p cguard
cargo build --release --quiet -p vulndb --example match_bench
bin=target/release/cguard
example=target/release/examples/match_bench

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/vuln.db

# Wall time of a command in milliseconds.
millis() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# Median of numbers given one per line.
median() {
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

build_ms=$(for _ in $(seq "$runs"); do rm -f "$db"; millis "$bin" db build --from "$data" --db "$db"; done | median)
size=$(stat -c %s "$db")
status_ms=$(for _ in $(seq "$runs"); do millis "$bin" db status --db "$db"; done | median)
"$example" "$db" "$data" "$work/sboms" >"$work/match.txt"
value() { awk -F': ' -v k="$1" '$1 == k { print $2 }' "$work/match.txt"; }

counts=$("$bin" db status --db "$db" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("{} vulnerabilities, {} affected entries, {} packages".format(
    s.get("vulnerabilities"), s.get("affected"), s.get("packages")))' 2>/dev/null || echo "?")

printf '\nVulnerability database benchmark (%s runs for the cguard commands, median)\n' "$runs"
printf 'data: %s (%s)\n\n' "$data" "$counts"
printf '| %-52s | %18s |\n' "measure" "value"
printf '| %-52s | %18s |\n' "$(printf -- '-%.0s' {1..52})" "$(printf -- '-%.0s' {1..18})"
row() { printf '| %-52s | %18s |\n' "$1" "$2"; }
row "cguard db build (load feeds, build, write)" "$build_ms ms"
row "database file size" "$size B ($((size / 1024)) KiB)"
row "Database::open, first in a fresh process" "$(value open_first_ms) ms"
row "Database::open, again" "$(value open_again_ms) ms"
row "cguard db status (process start, open, print)" "$status_ms ms"
row "match 1,000 packages after open, first (goal < 20 ms)" "$(value match_first_ms) ms"
row "match 1,000 packages after open, median of 20" "$(value match_median_ms) ms"
row "  findings in that inventory" "$(value inventory_findings)"
row "  same, each record read once per scan (memo source)" "$(value match_memo_median_ms) ms"
row "re-match 1,000 stored SBOMs (load JSON + match)" "$(value rematch_total_ms) ms"
row "  of which loading the JSON" "$(value rematch_load_ms) ms"
row "  per SBOM" "$(value rematch_per_sbom_ms) ms"
row "  SBOM bytes on disk / findings" "$(value stored_sbom_bytes) / $(value stored_findings)"
printf '\n%s\n' "$(value lookups)"
