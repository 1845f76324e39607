#!/usr/bin/env bash
# Events per second the shield takes without losing any. A container of the test image calls
# personality(0xffffffff) (a query that changes nothing, allowed by Docker's seccomp profile,
# and a watched syscall: one `syscall` finding per call, from two kernel records, the entry
# event and its result) at increasing rates (bench/shield/workload.c, `rate` mode), each for
# DURATION seconds, under a fresh `cguard shield --standalone` in detect mode. After each run
# the shield is stopped and its summary line says how many kernel events were lost (ring
# buffer full); the script prints a table per rate and the highest rate without a loss, with
# the shield's peak RSS (VmHWM) under that load. It stops after two rates in a row with
# losses.
#   bench/shield-drops.sh       (as root, with the Docker engine running; bench/shield.sh runs it)
#   RATES="1000 10000 max" DURATION=5 CGUARD=/path/to/cguard bench/shield-drops.sh
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a rates <<<"${RATES:-1000 2000 5000 10000 20000 30000 50000 75000 100000 200000 500000 max}"
duration=${DURATION:-5}
name=shield-drops
. bench/shield/setup.sh
printf '[{"name":"bench","processWhitelist":["/bench/workload"],"fileProtection":["/etc/passwd"],"mode":"detect","images":["%s"]}]\n' \
    "$image" >"$work/policy.json"

# run RATE: one shield, one container; writes "achieved written lost rss_kib" to $work/result.
run() {
    local rate=$1 calls target log=$work/shield.err
    target=$([ "$rate" = max ] && echo 1000000000 || echo "$rate")
    calls=$([ "$rate" = max ] && echo 2000000 || echo $((rate * duration)))
    rm -f "$work/events.jsonl"
    "$cguard" shield --standalone --policy-file "$work/policy.json" --events-file "$work/events.jsonl" 2>"$log" &
    shield_pid=$!
    for _ in $(seq 600); do
        grep -qx ready "$log" && break
        kill -0 "$shield_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    grep -qx ready "$log" || { echo "the shield did not print ready" >&2; cat "$log" >&2; exit 1; }
    local achieved
    achieved=$(docker run --rm --network none -v "$work/bench:/bench:ro" "$image" /bench/workload rate "$calls" "$target")
    sleep 1 # the shield reads what is left in the ring buffer
    local rss
    rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$shield_pid/status")
    kill -TERM "$shield_pid"
    wait "$shield_pid" || echo "the shield exited with status $?" >&2
    shield_pid=
    local summary
    summary=$(grep -h 'stopped;' "$log" | tail -1)
    [ -n "$summary" ] || { echo "no summary line:" >&2; cat "$log" >&2; exit 1; }
    echo "$achieved $(sed -E 's/.* ([0-9]+) events written, ([0-9]+) kernel events lost.*/\1 \2/' <<<"$summary") $rss" \
        >"$work/result"
}

printf '\nShield event load: personality(0xffffffff) in one container, %s s per rate, detect mode, %s\n\n' \
    "$duration" "$image"
printf '| %-10s | %13s | %16s | %11s | %12s |\n' "target/s" "achieved/s" "findings written" "kernel lost" "peak RSS MiB"
printf '|------------|---------------|------------------|-------------|--------------|\n'
best=0 best_rss=0 losing=0
for rate in "${rates[@]}"; do
    run "$rate"
    read -r achieved written lost rss <"$work/result"
    printf '| %-10s | %13s | %16s | %11s | %12.1f |\n' "$rate" "$achieved" "$written" "$lost" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
    if [ "$lost" = 0 ]; then
        losing=0
        if [ "$achieved" -gt "$best" ]; then best=$achieved best_rss=$rss; fi
    else
        losing=$((losing + 1))
        [ "$losing" -lt 2 ] || break
    fi
done
printf '\nHighest sustained rate without kernel drops: %s watched syscalls/s (%s kernel records/s: entry event and result), peak RSS %.1f MiB\n' \
    "$best" "$((best * 2))" "$(awk -v k="$best_rss" 'BEGIN { print k / 1024 }')"
