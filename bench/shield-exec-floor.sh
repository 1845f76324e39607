#!/usr/bin/env bash
# The floor of enforcing an exec allow-list through fanotify: the fork+exec loop of
# bench/shield/workload.c (/bin/true, dynamically linked: each exec holds the program and
# its loader) in one running container of the test image, RUNS times (default 5) in each mode:
#   none        nothing watches the container
#   responder   bench/shield/exec_responder.c marks the container's root mount and allows every
#               exec at once, with no look at the file: the round trip alone
#   examiner    the same responder waiting in poll(2) and fstat(2)ing each file (`-p -s`), as
#               an allow-list with several groups and answer deadlines must
#   detect      cguard shield --standalone, a detect-mode policy for the image
#   enforce     the same policy in enforce mode (the exec guard holds every exec)
# Prints the medians of the loop's time and their ratios to `none`.
#   bench/shield-exec-floor.sh        (as root, with the Docker engine running)
#   RUNS=3 N_EXEC=2000 bench/shield-exec-floor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
n_exec=${N_EXEC:-3000}
name=shield-exec-floor
. bench/shield/setup.sh
cc -O2 -Wall -Wextra -o "$work/exec_responder" bench/shield/exec_responder.c

container=$(docker run -d --network none -v "$work/bench:/bench:ro" "$image" sleep infinity)
stop_container() { docker rm -f "$container" >/dev/null 2>&1 || true; }
responder=
trap 'stop_container; [ -z "$responder" ] || kill "$responder" 2>/dev/null; cleanup' EXIT
pid=$(docker inspect -f '{{.State.Pid}}' "$container")

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

loops() {
    docker exec "$container" /bench/workload exec 100 >/dev/null
    for _ in $(seq "$runs"); do docker exec "$container" /bench/workload exec "$n_exec"; done >"$work/times-$1"
    echo "$1: $(echo $(cat "$work/times-$1"))" >&2
}

# wait_ready FILE PID: until FILE has a line `ready` (60 s at most).
wait_ready() {
    for _ in $(seq 600); do
        grep -qx ready "$1" && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    echo "no ready line:" >&2
    cat "$1" >&2
    exit 1
}

loops none

# respond MODE FLAGS…: the loops with the C responder running.
respond() {
    local mode=$1
    shift
    "$work/exec_responder" "$@" "/proc/$pid/root" >"$work/$mode.out" 2>"$work/$mode.err" &
    responder=$!
    wait_ready "$work/$mode.out" "$responder"
    loops "$mode"
    kill -TERM "$responder"
    wait "$responder" || true
    responder=
    cat "$work/$mode.err" >&2
}
respond responder
respond examiner -p -s

for mode in detect enforce; do
    printf '[{"name":"bench","processWhitelist":["/bench/workload","/bin/true","/usr/bin/true"],"mode":"%s","images":["%s"]}]\n' \
        "$mode" "$image" >"$work/policy-$mode.json"
    "$cguard" shield --standalone --policy-file "$work/policy-$mode.json" --events-file "$work/events-$mode.jsonl" \
        2>"$work/shield-$mode.err" &
    shield_pid=$!
    wait_ready "$work/shield-$mode.err" "$shield_pid"
    loops "$mode"
    kill -TERM "$shield_pid"
    wait "$shield_pid" || echo "the shield exited with status $?" >&2
    shield_pid=
    grep -h 'stopped;' "$work/shield-$mode.err" | tail -1 >&2 || true
done

printf '\nExec floor: fork+exec of /bin/true x%s in one container of %s, median of %s runs\n\n' "$n_exec" "$image" "$runs"
printf '| %-9s | %8s | %6s | %12s |\n' mode seconds ratio "µs per exec"
printf '|-----------|----------|--------|--------------|\n'
base=$(median <"$work/times-none")
for mode in none responder examiner detect enforce; do
    m=$(median <"$work/times-$mode")
    awk -v mode="$mode" -v m="$m" -v b="$base" -v n="$n_exec" \
        'BEGIN { printf "| %-9s | %8.3f | %6.3f | %12.1f |\n", mode, m, m / b, (m - b) / n * 1e6 }'
done
