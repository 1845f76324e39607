#!/usr/bin/env bash
# The floor of the shield's per-syscall cost: what the syscall hooks cost before the programs
# do any work. Runs a syscall loop (bench/shield/floor.c, static: fastest of BATCHES batches
# of N calls, in ns per call) in a container of the test image and on the host, with the
# hook configurations of `cargo run --example syscall_floor` (crates/shield-bpf), by default:
#   none                     nothing attached
#   tp_btf                   empty programs on tp_btf/sys_enter and sys_exit (every syscall)
#   tp_btf-exit              an empty program on tp_btf/sys_exit only
#   risky                    empty programs on syscalls/sys_enter_NAME and sys_exit_NAME of the
#                            high-risk syscalls only: the floor of any syscall tracepoint
#   risky-enter+tp_btf-exit  the hooks of SyscallHooks::PerSyscall, empty
#   tracepoint               per-syscall entry and exit tracepoints of every watched syscall,
#                            file operations included (openat is one: the open loop calls it)
#   shield-raw               the shield's programs with SyscallHooks::Raw (the old hooks)
#   shield                   the shield's programs (Probes::load, default configuration)
# The stat and getppid loops call no watched syscall; the open loop's openat is a watched
# file operation (`tracepoint` attaches its tracepoints, the shield's programs look at it).
# The modes are interleaved ROUNDS times (default 3) and the fastest result of each is kept.
# A round is retried while another process has the shield's programs loaded (its hooks would
# be counted). Docker's seccomp filter already puts container tasks on the kernel's slow
# syscall path, so the host rows show what the slow path itself costs.
#   bench/shield-floor.sh        (as root, with the Docker engine running)
#   LOOP=open|stat|getppid MODES="none tp_btf" ROUNDS=5 BATCHES=100 N=10000 bench/shield-floor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-cguard-test/minbase:bookworm}
archive=$PWD/.cache/images/minbase.tar
loop=${LOOP:-stat}
rounds=${ROUNDS:-3}
batches=${BATCHES:-100}
n=${N:-10000}
read -r -a modes <<<"${MODES:-none tp_btf tp_btf-exit risky risky-enter+tp_btf-exit tracepoint shield-raw shield}"

[ "$(id -u)" = 0 ] || { echo "bench/shield-floor.sh needs root (it loads eBPF programs)" >&2; exit 1; }
cargo build --release --quiet -p shield-bpf --example syscall_floor
floor=$PWD/target/release/examples/syscall_floor
docker image inspect "$image" >/dev/null 2>&1 || docker load -q -i "$archive" >/dev/null

work=$(mktemp -d /tmp/cguard-shield-floor.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bench"
chmod 755 "$work" "$work/bench"
cc -static -O2 -Wall -Wextra -o "$work/bench/floor" bench/shield/floor.c

# Programs of another shield (or of a run that is still being unloaded).
loaded() { { bpftool prog show 2>/dev/null || true; } | grep -cE 'name (shield|floor)_' || true; }

# measure MODE WHERE: one run; prints the fastest batch's ns per call.
measure() {
    local command=("$work/bench/floor" "$loop" "$batches" "$n")
    if [ "$2" = container ]; then
        command=(docker run --rm --network none -v "$work/bench:/bench:ro" "$image" /bench/floor "$loop" "$batches" "$n")
    fi
    while :; do
        while [ "$(loaded)" != 0 ]; do sleep 1; done
        local result
        result=$("$floor" "$1" "${command[@]}" 2>/dev/null | awk '{ print $1 }')
        sleep 1
        if [ "$(loaded)" = 0 ] && [ -n "$result" ]; then
            echo "$result"
            return
        fi
        echo "retrying $1 ($2): other syscall programs were loaded" >&2
    done
}

for _ in $(seq "$rounds"); do
    for where in container host; do
        for m in "${modes[@]}"; do
            measure "$m" "$where" >>"$work/$where-$m"
        done
    done
done

printf '\nSyscall hook floor: %s loop, fastest of %s batches of %s, best of %s rounds, ns per iteration\n\n' \
    "$loop" "$batches" "$n" "$rounds"
printf '| %-23s | %9s | %9s | %9s | %9s |\n' hooks container ratio host ratio
printf '|-------------------------|-----------|-----------|-----------|-----------|\n'
best() { sort -g "$1" | head -1; }
for m in "${modes[@]}"; do
    awk -v m="$m" -v c="$(best "$work/container-$m")" -v c0="$(best "$work/container-${modes[0]}")" \
        -v h="$(best "$work/host-$m")" -v h0="$(best "$work/host-${modes[0]}")" \
        'BEGIN { printf "| %-23s | %9.1f | %9.3f | %9.1f | %9.3f |\n", m, c, c / c0, h, h / h0 }'
done
printf '\nRuns (ns per iteration):\n'
for where in container host; do
    for m in "${modes[@]}"; do printf '  %-9s %-23s %s\n' "$where" "$m" "$(echo $(cat "$work/$where-$m"))"; done
done
