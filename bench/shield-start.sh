#!/usr/bin/env bash
# The start window: how often a container's very first command gets past its enforce-mode
# policy, and what holding the start costs. RUNS containers (default 20) of the test image
# run `echo x >> /etc/passwd` as their own program, /etc/passwd being protected by an
# enforce-mode policy, in four set-ups:
#   runc, no shield         the baseline start time
#   cguard-runc, no shield  the wrapper alone (it finds no shield and hands over to runc)
#   runc, shield            the shield learns of the container from the engine's start
#                           event, after the program started: writes get through
#   cguard-runc, shield     the wrapper holds `runc start` until the shield has protected
#                           the container: none should
# Prints, for each, the median and 90th percentile of `docker run` (start to exit) and the
# writes that got through.
#   bench/shield-start.sh        (as root, with the Docker engine running and the runtime
#                                 `cguard` registered: scripts/start-services.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20}
name=shield-start
. bench/shield/setup.sh
tag=cguard-test/minbase:start-bench
docker tag "$image" "$tag"
wrapper=/usr/local/lib/cguard/cguard-runc
docker info --format '{{json .Runtimes}}' | grep -q '"cguard"' ||
    { echo "the engine has no runtime cguard: run scripts/start-services.sh" >&2; exit 1; }
previous=$(readlink "$wrapper" || true)
mkdir -p "$(dirname "$wrapper")"
ln -sfn "$cguard" "$wrapper"
restore() { if [ -n "$previous" ]; then ln -sfn "$previous" "$wrapper"; fi; cleanup; }
trap restore EXIT

cat >"$work/policy.json" <<JSON
[{"name":"start-bench","mode":"enforce","images":["$tag"],
  "processWhitelist":["/bin/sh","/usr/bin/sh","/usr/bin/dash","/usr/bin/true"],"fileProtection":["/etc/passwd"]}]
JSON

# measure LABEL RUNTIME: RUNS containers; prints the line of the table.
measure() {
    local label=$1 runtime=$2 escaped=0 start end out
    : >"$work/times"
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        out=$(docker run --rm --runtime "$runtime" --network none "$tag" \
            sh -c 'echo x >> /etc/passwd 2>/dev/null && echo escaped' 2>&1 || true)
        end=$(date +%s%N)
        echo $(((end - start) / 1000)) >>"$work/times"
        [ "$out" != escaped ] || escaped=$((escaped + 1))
    done
    sort -n "$work/times" | awk -v label="$label" -v escaped="$escaped" -v runs="$runs" '
        { v[NR] = $1 }
        END { printf "%-24s %10.1f %10.1f %8d/%d\n", label, v[int((NR + 1) / 2)] / 1000, v[int(NR * 0.9 + 0.5)] / 1000, escaped, runs }'
}

printf "%-24s %10s %10s %10s\n" "set-up" "median ms" "p90 ms" "escaped"
measure "runc, no shield" runc
measure "cguard-runc, no shield" cguard
"$cguard" shield --standalone --policy-file "$work/policy.json" --events-file "$work/events.jsonl" \
    2>"$work/shield.err" &
shield_pid=$!
for _ in $(seq 600); do grep -qx ready "$work/shield.err" && break; sleep 0.1; done
grep -qx ready "$work/shield.err" || { cat "$work/shield.err" >&2; exit 1; }
grep -q "cguard-runc answered on" "$work/shield.err" || { echo "the shield does not listen for cguard-runc:" >&2; cat "$work/shield.err" >&2; exit 1; }
measure "runc, shield" runc
measure "cguard-runc, shield" cguard
