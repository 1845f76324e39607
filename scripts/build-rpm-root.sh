#!/usr/bin/env bash
# Builds a small rpm-based root filesystem at $1 with Debian's rpmbuild and rpm: a few
# packages shaped like a Rocky Linux 9 base (epochs, source rpms named differently from
# their binaries, files in several directories), installed into an SQLite rpmdb at
# /var/lib/rpm, plus os-release files that name the distribution.
set -euo pipefail
root=${1:?usage: build-rpm-root.sh ROOT}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$root" "$work"/{SPECS,BUILD,RPMS,SOURCES,SRPMS,BUILDROOT}

# name|epoch|version|release|source name|license|files (space separated)
packages='rocky-release||9.3|1.3.el9|rocky-release|BSD-3-Clause|/etc/rocky-release /etc/redhat-release /etc/system-release /usr/lib/os-release
bash||5.1.8|6.el9_1|bash|GPLv3+|/usr/bin/bash /usr/share/doc/bash/README
openssl-libs|1|3.0.7|24.el9|openssl|ASL 2.0|/usr/lib64/libssl.so.3 /usr/lib64/libcrypto.so.3
zlib||1.2.11|40.el9|zlib|zlib and Boost|/usr/lib64/libz.so.1.2.11
glibc||2.34|83.el9.7|glibc|LGPLv2+ and GPLv2+|/usr/lib64/libc.so.6 /etc/ld.so.conf
python3-libs||3.9.18|1.el9_3|python3.9|Python|/usr/lib64/python3.9/os.py'

cat >"$work/SOURCES/os-release" <<'OSRELEASE'
NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
OSRELEASE

while IFS='|' read -r name epoch version release source license files; do
  spec="$work/SPECS/$name.spec"
  # A binary named differently from its source is a subpackage of a spec named after the
  # source, so that its SOURCERPM names the source, as on real distributions.
  pkgflag=""
  [ "$name" != "$source" ] && pkgflag="-n $name"
  {
    echo "Name: $source"
    [ -n "$epoch" ] && echo "Epoch: $epoch"
    echo "Version: $version"
    echo "Release: $release"
    echo "Summary: $source for cguard tests"
    echo "License: $license"
    echo "BuildArch: x86_64"
    echo "%description"
    echo "$source built for cguard's rpm inventory tests."
    if [ -n "$pkgflag" ]; then
      echo "%package $pkgflag"
      echo "Summary: $name for cguard tests"
      echo "%description $pkgflag"
      echo "$name built for cguard's rpm inventory tests."
    fi
    echo "%install"
    for f in $files; do
      echo "mkdir -p %{buildroot}$(dirname "$f")"
      if [ "$f" = /usr/lib/os-release ]; then
        echo "install -m 0644 $work/SOURCES/os-release %{buildroot}$f"
      elif [[ "$f" == *-release ]]; then
        echo "echo 'Rocky Linux release 9.3 (Blue Onyx)' > %{buildroot}$f"
      else
        echo "echo '$name $f' > %{buildroot}$f"
      fi
    done
    echo "%files $pkgflag"
    for f in $files; do echo "$f"; done
  } >"$spec"
  # The source rpm name follows the Source package name, as on real distributions.
  rpmbuild --quiet -bb --define "_topdir $work" --define "_build_name_fmt %%{NAME}.rpm" "$spec" >/dev/null 2>&1 \
    || { echo "rpmbuild $name failed"; rpmbuild -bb --define "_topdir $work" "$spec"; exit 1; }
done <<<"$packages"

mkdir -p "$root/etc" "$root/var/lib/rpm"
ln -sf ../usr/lib/os-release "$root/etc/os-release"
rpm --root "$root" --dbpath /var/lib/rpm --initdb
rpm --root "$root" --dbpath /var/lib/rpm -i --nodeps --noscripts --ignorearch --ignoreos "$work"/RPMS/*.rpm 2>/dev/null
# Fold the write-ahead log into the database, as a cleanly closed rpm leaves it.
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.execute("PRAGMA journal_mode=DELETE"); c.close()' "$root/var/lib/rpm/rpmdb.sqlite"
rm -f "$root/var/lib/rpm/rpmdb.sqlite-shm" "$root/var/lib/rpm/rpmdb.sqlite-wal" "$root/var/lib/rpm/.rpm.lock"
rpm --root "$root" --dbpath /var/lib/rpm -qa --qf '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{SOURCERPM}\n' | sort
