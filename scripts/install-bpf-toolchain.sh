#!/usr/bin/env bash
# Installs what building the shield's eBPF programs needs (crate shield-bpf): clang to
# compile the C programs to BPF, bpftool to write vmlinux.h from the running kernel's BTF,
# and libbpf-dev for the BPF helper headers (bpf_helpers.h, bpf_core_read.h, bpf_tracing.h).
# Does nothing when all three are present. Run as root or with sudo.
set -euo pipefail

packages=(clang bpftool libbpf-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
echo "installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
