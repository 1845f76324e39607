#!/usr/bin/env bash
# Regenerates the rpm databases under this directory from the spec files in specs/.
#
# Needs Debian's rpm tools, BerkeleyDB utilities and gpg: `apt-get install -y rpm db5.3-util gpg`.
# The packages are built with rpmbuild, then recorded (without their files) in a fresh
# SQLite database (rpmdb.sqlite). The NDB database (Packages.db) is written from its header
# blobs, see below. Debian's rpm cannot write BerkeleyDB either, so the BerkeleyDB hash
# database (Packages) is written with db5.3_load from the very header blobs the SQLite database
# holds, keyed the way rpm keys them: the package's instance number as a 4-byte integer
# in the byte order of the database (rpm wrote host order), plus the instance counter
# under key 0.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
for tool in rpm rpmbuild db5.3_load gpg python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y rpm db5.3-util gpg python3" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for spec in "$here"/specs/*.spec; do
    rpmbuild --quiet -bb --define "_topdir $work/build" --define '_build_id_links none' \
        --define '__os_install_post %{nil}' --define '_source_date_epoch 1700000000' \
        --define 'use_source_date_epoch_as_buildtime 1' --define 'clamp_mtime_to_source_date_epoch 1' \
        --define '_buildhost cguard.invalid' "$spec" >/dev/null
done
base_rpms=$(find "$work/build/RPMS" -name 'tiny-base-*.rpm' -o -name 'tiny-empty-*.rpm' | sort)
more_rpms=$(find "$work/build/RPMS" -name '*.rpm' ! -name 'tiny-base-*' ! -name 'tiny-empty-*' | sort)

install() {
    # shellcheck disable=SC2086
    rpm --dbpath "$work/sqlite" --define "_db_backend sqlite" -i --justdb --nodeps --noscripts \
        --ignorearch --ignoreos --nosignature --nodigest "$@"
}

# rpmdb-base.sqlite is the database as a base layer would leave it, before the other
# packages are installed on top: layer attribution tests stack the two.
mkdir -p "$work/sqlite"
rpm --dbpath "$work/sqlite" --define '_db_backend sqlite' --initdb
# shellcheck disable=SC2086
install $base_rpms
cp "$work/sqlite/rpmdb.sqlite" "$here/rpmdb-base.sqlite"
# shellcheck disable=SC2086
install $more_rpms
# An imported signing key becomes a gpg-pubkey pseudo package, which readers must skip.
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'cguard tests <tests@cguard.invalid>' rsa2048 sign never
gpg --batch --quiet --armor --export >"$work/key.asc"
rpm --dbpath "$work/sqlite" --define '_db_backend sqlite' --import "$work/key.asc"
# rpm checkpoints its write-ahead log when it closes the database: the main file must be
# complete on its own, as it is in images.
if [ -s "$work/sqlite/rpmdb.sqlite-wal" ]; then
    echo "rpmdb.sqlite-wal is not empty" >&2
    exit 1
fi
cp "$work/sqlite/rpmdb.sqlite" "$here/rpmdb.sqlite"

# Debian's rpm is built without the NDB backend, so Packages.db is written here, in the
# format of rpm's lib/backend/ndb/rpmpkg.c: a 32-byte file header ("RpmP", version 0,
# generation, number of slot pages, next package index), 16-byte slots ("Slot", package
# index, block offset, block count) filling the slot pages, then each blob in 16-byte
# blocks: "BlbS", package index, timestamp, length, the header blob, zero padding, and a
# tail of the adler32 of everything before it, the length again and "BlbE".
python3 - "$here/rpmdb.sqlite" "$here/Packages.db" <<'PY'
import sqlite3, struct, sys, zlib
rows = sqlite3.connect(sys.argv[1]).execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
page, slots, blobs = 4096, [], bytearray()
next_blk = page // 16  # blobs start after the single slot page
for hnum, blob in rows:
    blob = bytes(blob)
    blkcnt = (16 + len(blob) + 12 + 15) // 16
    head = struct.pack("<4sIII", b"BlbS", hnum, 1700000000, len(blob))
    pad = blkcnt * 16 - (16 + len(blob) + 12)
    body = head + blob + bytes(pad)
    tail = struct.pack("<II4s", zlib.adler32(body), len(blob), b"BlbE")
    blobs += body + tail
    slots.append(struct.pack("<4sIII", b"Slot", hnum, next_blk, blkcnt))
    next_blk += blkcnt
header = struct.pack("<4sIIII", b"RpmP", 0, len(rows) + 1, 1, max(r[0] for r in rows) + 1) + bytes(12)
slotpage = header + b"".join(slots)
slotpage += struct.pack("<4sIII", b"Slot", 0, 0, 0) * ((page - len(slotpage)) // 16)
assert len(slotpage) == page
open(sys.argv[2], "wb").write(slotpage + blobs)
PY

# BerkeleyDB: a db_dump-format text stream of hex key/value pairs for db5.3_load.
write_bdb() {
    local order="$1" pagesize="$2" out="$3"
    python3 - "$here/rpmdb.sqlite" "$order" "$pagesize" >"$work/dump.txt" <<'PY'
import sqlite3, struct, sys
db, order, pagesize = sys.argv[1], sys.argv[2], sys.argv[3]
fmt = "<I" if order == "1234" else ">I"
rows = sqlite3.connect(db).execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
print("VERSION=3\nformat=bytevalue\ntype=hash\ndb_lorder=%s\ndb_pagesize=%s\nHEADER=END" % (order, pagesize))
print(" " + struct.pack(fmt, 0).hex())
print(" " + struct.pack(fmt, max(r[0] for r in rows) + 1).hex())
for hnum, blob in rows:
    print(" " + struct.pack(fmt, hnum).hex())
    print(" " + bytes(blob).hex())
print("DATA=END")
PY
    rm -f "$out"
    db5.3_load -f "$work/dump.txt" "$out"
}
# Three shapes: rpm's usual 4 KiB pages, where every header goes to overflow pages; 512-byte
# pages in big-endian order, where headers span chains of overflow pages; and 16 KiB pages,
# where headers fit on the hash page itself.
write_bdb 1234 4096 "$here/Packages"
write_bdb 4321 512 "$here/Packages-be"
write_bdb 1234 16384 "$here/Packages-16k"

ls -l "$here"/rpmdb.sqlite "$here"/rpmdb-base.sqlite "$here"/Packages.db "$here"/Packages "$here"/Packages-be "$here"/Packages-16k
