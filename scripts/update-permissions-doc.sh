#!/usr/bin/env bash
# Rewrites the route table of docs/permissions.md from the server's route table (the test
# docs_permissions_md_is_the_route_table prints the table it expects when they differ).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo test -q -p server --test integration -- permissions::docs_permissions_md_is_the_route_table 2>&1 || true)
python3 - "$out" <<'PY'
import sys
out = sys.argv[1]
marker = "its table must be exactly:\n"
if marker not in out:
    print("docs/permissions.md is up to date")
    sys.exit(0)
lines = []
for line in out[out.index(marker) + len(marker):].split("\n"):
    if not line.startswith("|"):
        break
    lines.append(line)
path = "docs/permissions.md"
doc = open(path).read()
start = doc.index("| Method | Path | Guard | Audit event |")
rest = doc[start:].split("\n")
n = next(i for i, l in enumerate(rest) if not l.startswith("|"))
open(path, "w").write(doc[:start] + "\n".join(lines) + "\n" + "\n".join(rest[n:]))
print("docs/permissions.md updated")
PY
