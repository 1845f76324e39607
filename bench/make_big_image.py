#!/usr/bin/env python3
"""Writes a docker-archive with one layer of 100,000 files totalling 1 GiB (plus a dpkg
status naming no package), for the memory benchmark: `make_big_image.py OUT.tar`."""
import hashlib
import io
import json
import os
import sys
import tarfile

FILES = 100_000
TOTAL = 1 << 30


def layer_bytes_iter(path):
    """Writes the layer tar to `path` and returns its sha256 (the diff id)."""
    size = TOTAL // FILES
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        with tarfile.open(fileobj=f, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for d in range(100):
                info = tarfile.TarInfo(f"data/d{d:03}")
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            for i in range(FILES):
                info = tarfile.TarInfo(f"data/d{i % 100:03}/file{i:06}.bin")
                info.size = size
                info.mode = 0o644
                off = (i * 7919) % (len(block) - size)
                tar.addfile(info, io.BytesIO(block[off:off + size]))
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def main():
    out = sys.argv[1]
    tmp = out + ".layer"
    diff_id = layer_bytes_iter(tmp)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "bench: 100k files"}],
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["cguard-bench/big:latest"],
                            "Layers": ["layer0/layer.tar"]}]).encode()
    with tarfile.open(out + ".part", "w") as tar:
        for name, data in ((config_name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        tar.add(tmp, arcname="layer0/layer.tar")
    os.remove(tmp)
    os.rename(out + ".part", out)


if __name__ == "__main__":
    main()
