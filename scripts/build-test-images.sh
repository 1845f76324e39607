#!/usr/bin/env bash
# Builds the images the tests and benchmarks scan, from Debian's packages only (nothing
# is pulled from a registry). Each image is written once into $CGUARD_IMAGES (default
# .cache/images) as a docker-archive, and loaded into the local Docker engine:
#   minbase.tar  debootstrap --variant=minbase bookworm             (cguard-test/minbase:bookworm)
#   extra.tar    minbase + python3 perl curl openssh-server nginx    (cguard-test/extra:bookworm)
#   lang.tar     extra + Python packages and a Node project          (cguard-test/lang:bookworm)
#   rpm.tar      a root filesystem populated with Debian's rpm       (cguard-test/rpm:latest)
# and minbase-root/, the unpacked minbase root filesystem (for dir: scans), and
# extra-oci/, the extra image as an OCI image layout.
set -euo pipefail

out=${CGUARD_IMAGES:-$(cd "$(dirname "$0")/.." && pwd)/.cache/images}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DOCKER_BUILDKIT=0

have() { [ -s "$out/$1.tar" ] && docker image inspect "$2" >/dev/null 2>&1; }
save() { docker save -o "$out/$1.tar.part" "$2" && mv "$out/$1.tar.part" "$out/$1.tar"; }

if ! have minbase cguard-test/minbase:bookworm; then
  echo "building minbase (debootstrap)"
  rm -rf "$out/minbase-root"
  debootstrap --variant=minbase bookworm "$out/minbase-root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; exit 1; }
  # Same apt sources as the host, so that later layers install from the same mirror.
  echo "deb $mirror bookworm main" >"$out/minbase-root/etc/apt/sources.list"
  rm -rf "$out/minbase-root/var/cache/apt/archives/"*.deb
  tar --numeric-owner -C "$out/minbase-root" -c . | docker import - cguard-test/minbase:bookworm >/dev/null
  save minbase cguard-test/minbase:bookworm
fi

if ! have extra cguard-test/extra:bookworm; then
  echo "building extra (apt-get install python3 perl curl openssh-server nginx)"
  mkdir -p "$work/extra"
  cat >"$work/extra/Dockerfile" <<'DOCKERFILE'
FROM cguard-test/minbase:bookworm
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 perl curl openssh-server nginx \
    && rm -rf /var/lib/apt/lists/*
DOCKERFILE
  docker build -q --network host -t cguard-test/extra:bookworm "$work/extra" >/dev/null
  save extra cguard-test/extra:bookworm
fi

if ! have lang cguard-test/lang:bookworm; then
  echo "building lang (Python and Node packages)"
  ctx="$work/lang"
  mkdir -p "$ctx/site" "$ctx/app"
  python3 -m pip install -q --no-compile --no-deps --target "$ctx/site" \
    requests==2.31.0 urllib3==1.26.18 idna==3.4 certifi==2023.7.22 charset-normalizer==3.3.2 \
    flask==2.2.5 jinja2==3.1.2 werkzeug==2.2.3 pyyaml==6.0.1 --platform manylinux2014_x86_64 --only-binary=:all:
  (cd "$ctx/app" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
     express@4.18.2 lodash@4.17.20 minimist@1.2.5 >/dev/null)
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM cguard-test/extra:bookworm
COPY site/ /usr/local/lib/python3.11/dist-packages/
COPY app/ /app/
DOCKERFILE
  docker build -q -t cguard-test/lang:bookworm "$ctx" >/dev/null
  save lang cguard-test/lang:bookworm
fi

if ! have rpm cguard-test/rpm:latest; then
  echo "building rpm (root filesystem populated by rpm)"
  "$(dirname "$0")/build-rpm-root.sh" "$work/rpmroot"
  tar --numeric-owner -C "$work/rpmroot" -c . | docker import - cguard-test/rpm:latest >/dev/null
  save rpm cguard-test/rpm:latest
fi

# The extra image as an OCI image layout too (directory), converted by skopeo offline.
if [ ! -s "$out/extra-oci/index.json" ]; then
  echo "converting extra to an OCI layout"
  rm -rf "$out/extra-oci"
  skopeo copy -q "docker-archive:$out/extra.tar" "oci:$out/extra-oci:bookworm"
fi

echo "test images ready in $out"
