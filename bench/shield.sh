#!/usr/bin/env bash
# Overhead of the shield on a syscall-heavy container workload (bench/shield/workload.c, static):
# open/read/close of one file, stat of one path, fork+exec of /bin/true. Each mode runs RUNS
# times (default 5) in a container of the test image, without the shield, with
# `cguard shield --standalone` in detect mode with a policy for the image, and in enforce mode
# with the same policy. One shield is started per (mode, workload mode) and the runs start
# once it printed `ready`. Prints medians of the workload's own loop time and ratios to the
# run without the shield (goal: at most 1.05), the shield's peak RSS (VmHWM just before it is
# stopped, goal < 100 MiB) and its summary line.
# After the timed runs of each shield, one container executes /usr/bin/id (not whitelisted):
# detect mode must report it, enforce mode must refuse it; the script says whether it did.
# Then bench/shield-drops.sh measures the highest event rate the shield takes without losing
# kernel events, and its peak RSS under that load (DROPS=0 leaves it out).
# bench/shield-floor.sh measures what the syscall hooks themselves cost.
#   bench/shield.sh            (as root, with the Docker engine running)
#   RUNS=3 N_OPEN=… N_STAT=… N_EXEC=… bench/shield.sh
#   MODES=exec DROPS=0 bench/shield.sh      (only some of the loops, no drop measurement)
#   CGUARD=/path/to/cguard bench/shield.sh     (another build, e.g. to compare two versions)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
# Loop counts for a 1–2 s run on the 2-core development machine.
n_open=${N_OPEN:-400000}
n_stat=${N_STAT:-1500000}
n_exec=${N_EXEC:-3000}
name=shield
. bench/shield/setup.sh

# policy_file MODE: a policy for the image, in detect or enforce mode.
policy_file() {
    local file=$work/policy-$1.json
    printf '[{"name":"bench","processWhitelist":["/bench/workload","/bin/true","/usr/bin/true"],' >"$file"
    printf '"fileProtection":["/etc/passwd"],"mode":"%s","images":["%s"]}]\n' "$1" "$image" >>"$file"
    echo "$file"
}

# Programs of any shield in the kernel (this script's and others'), when bpftool is there.
shield_programs() {
    if command -v bpftool >/dev/null; then { bpftool prog show 2>/dev/null || true; } | grep -c 'name shield_' || true; else echo 0; fi
}
own_programs=0
# quiet: waits (60 s at most) until no other shield's programs are loaded: their syscall
# hooks would slow down every run.
quiet() {
    for _ in $(seq 60); do
        [ "$(shield_programs)" -le "$own_programs" ] && return 0
        sleep 1
    done
    echo "another shield's programs stay loaded: the figures include their cost" >&2
}

# workload ARGS…: one container run; prints the loop's seconds.
workload() {
    quiet
    docker run --rm --network none -v "$work/bench:/bench:ro" "$image" /bench/workload "$@"
}

# Median of numbers given one per line.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# start_shield MODE TAG: starts the shield, waits for `ready` (60 s at most).
start_shield() {
    local log=$work/shield-$2.err
    own_programs=0
    quiet
    "$cguard" shield --standalone --policy-file "$(policy_file "$1")" \
        --events-file "$work/events-$2.jsonl" 2>"$log" &
    shield_pid=$!
    for _ in $(seq 600); do
        if grep -qx ready "$log"; then
            own_programs=$(shield_programs)
            return 0
        fi
        kill -0 "$shield_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "the shield did not print ready:" >&2
    cat "$log" >&2
    exit 1
}

# stop_shield TAG: records the peak RSS, stops the shield and keeps its summary line.
stop_shield() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$shield_pid/status" >"$work/rss-$1"
    kill -TERM "$shield_pid"
    wait "$shield_pid" || echo "the shield exited with status $?" >&2
    shield_pid=
    own_programs=0
    grep -h 'stopped;' "$work/shield-$1.err" | tail -1 >"$work/summary-$1" || echo "(no summary line)" >"$work/summary-$1"
    { grep -o '"category":"[a-z]*","type":"[a-z-]*"' "$work/events-$1.jsonl" 2>/dev/null || true; } |
        sed 's/"category":"\([a-z]*\)","type":"\([a-z-]*\)"/\1\/\2/' | sort | uniq -c |
        awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }' >"$work/types-$1"
}

# check MODE TAG: executes /usr/bin/id (not whitelisted) and says what the shield did.
check() {
    local status=0
    workload exec 1 /usr/bin/id >/dev/null 2>&1 || status=$?
    sleep 0.5
    local events
    events=$(grep -c '"abnormal-program"' "$work/events-$2.jsonl" || true)
    if [ "$1" = enforce ]; then
        [ "$status" != 0 ] && echo "refused, $events abnormal-program event(s)" || echo "NOT refused, $events abnormal-program event(s)"
    else
        [ "$status" = 0 ] && echo "ran, $events abnormal-program event(s)" || echo "failed (status $status), $events event(s)"
    fi >"$work/check-$2"
}

read -r -a modes <<<"${MODES:-open stat exec}"
declare -A count=([open]=$n_open [stat]=$n_stat [exec]=$n_exec)
# One unmeasured run per mode: the image and the workload are then in the page cache.
for m in "${modes[@]}"; do workload "$m" 1000 >/dev/null; done

for m in "${modes[@]}"; do
    for s in none detect enforce; do
        tag=$m-$s
        [ "$s" = none ] || start_shield "$s" "$tag"
        for _ in $(seq "$runs"); do workload "$m" "${count[$m]}"; done >"$work/times-$tag"
        if [ "$s" != none ]; then
            check "$s" "$tag"
            stop_shield "$tag"
        fi
        echo "$tag: $(echo $(cat "$work/times-$tag"))" >&2
    done
done

printf '\nShield overhead: %s, %s runs per cell, median seconds of the loop (inside the container)\n\n' "$image" "$runs"
printf '| %-5s | %8s | %8s | %8s | %8s | %12s | %13s |\n' mode N none detect enforce detect/none enforce/none
printf '|-------|----------|----------|----------|----------|--------------|---------------|\n'
for m in "${modes[@]}"; do
    none=$(median <"$work/times-$m-none")
    det=$(median <"$work/times-$m-detect")
    enf=$(median <"$work/times-$m-enforce")
    awk -v m="$m" -v n="${count[$m]}" -v a="$none" -v d="$det" -v e="$enf" \
        'BEGIN { printf "| %-5s | %8d | %8.3f | %8.3f | %8.3f | %12.3f | %13.3f |\n", m, n, a, d, e, d / a, e / a }'
done
printf '\nRuns (s):\n'
for m in "${modes[@]}"; do
    for s in none detect enforce; do
        printf '  %-14s %s\n' "$m-$s" "$(echo $(cat "$work/times-$m-$s"))"
    done
done
printf '\nShield runs (one per cell): peak RSS (VmHWM), /usr/bin/id check, summary\n'
for m in "${modes[@]}"; do
    for s in detect enforce; do
        tag=$m-$s
        printf '  %-14s %6.1f MiB  id: %s\n  %-14s %s\n  %-14s events: %s\n' "$tag" \
            "$(awk '{ print $1 / 1024 }' "$work/rss-$tag")" "$(cat "$work/check-$tag")" \
            "" "$(cat "$work/summary-$tag")" "" "$(cat "$work/types-$tag")"
    done
done

if [ "${DROPS:-1}" != 0 ]; then
    CGUARD=$cguard IMAGE=$image bench/shield-drops.sh
fi
