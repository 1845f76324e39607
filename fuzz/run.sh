#!/usr/bin/env bash
# Runs fuzz targets one after another: `fuzz/run.sh SECONDS [TARGET ...]` (default: all).
# Needs `cargo install cargo-fuzz`; stable Rust works with `--sanitizer none`. New inputs
# go into corpus/TARGET; crashes into artifacts/TARGET and make the script fail.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
# Targets whose inputs may grow past libFuzzer's default (the corpus's largest input, or
# 4 KiB): a layer's member headers are bounded at 1 MiB, so its inputs go up to 8 MiB.
declare -A max_len=([layer]=$((8 << 20)))
mkdir -p logs
cargo fuzz build --sanitizer none -O >/dev/null
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "fuzzing $t for ${secs}s"
  extra=()
  [ -z "${max_len[$t]:-}" ] || extra=(-max_len="${max_len[$t]}")
  if cargo fuzz run --sanitizer none -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
       -timeout=10 -print_final_stats=1 "${extra[@]}" >"logs/$t.log" 2>&1; then
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "logs/$t.log" | tr '\n' ' '
    echo "-> $t: no crash"
  else
    echo "-> $t: FAILED, see fuzz/logs/$t.log"; tail -30 "logs/$t.log"; status=1
  fi
done
exit $status
