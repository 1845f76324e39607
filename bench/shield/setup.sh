# Shared set-up of the shield benchmarks (sourced by bench/shield.sh and
# bench/shield-drops.sh, which set `name` first): root check, the cguard build (unless
# CGUARD names a binary) when a source file of the workspace is newer, the test image, a
# work directory removed at exit (stopping the shield in $shield_pid if one runs), and the
# static workload in $work/bench/workload.
root=$PWD
image=${IMAGE:-cguard-test/minbase:bookworm}
archive=$root/.cache/images/minbase.tar
cguard=${CGUARD:-$root/target/release/cguard}

[ "$(id -u)" = 0 ] || { echo "bench/$name.sh needs root (the shield loads eBPF programs)" >&2; exit 1; }

if [ -z "${CGUARD:-}" ] && { [ ! -x "$cguard" ] ||
    [ -n "$(find crates Cargo.toml Cargo.lock -type f -newer "$cguard" -print -quit)" ]; }; then
    cargo build --release --quiet -p cguard
fi
docker image inspect "$image" >/dev/null 2>&1 || docker load -q -i "$archive" >/dev/null

work=$(mktemp -d "/tmp/cguard-$name.XXXXXX")
shield_pid=
cleanup() {
    if [ -n "$shield_pid" ] && kill -0 "$shield_pid" 2>/dev/null; then
        kill -TERM "$shield_pid" 2>/dev/null || true
        wait "$shield_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/bench"
chmod 755 "$work" "$work/bench"
cc -static -O2 -Wall -Wextra -o "$work/bench/workload" bench/shield/workload.c
