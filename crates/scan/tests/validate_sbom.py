#!/usr/bin/env python3
"""Validates an SBOM against its official JSON schema: `validate_sbom.py cyclonedx|spdx FILE`.

Exits 0 when valid; otherwise prints every violation (path and message) and exits 1.
Needs the PyPI packages `jsonschema` and `referencing` (installed by `make test`)."""
import json
import pathlib
import sys

import jsonschema
import referencing
import referencing.jsonschema

SCHEMAS = pathlib.Path(__file__).resolve().parent / "data" / "schemas"


def load(name):
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def main():
    kind, path = sys.argv[1], sys.argv[2]
    doc = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    if kind == "cyclonedx":
        schema = load("bom-1.5.SNAPSHOT.schema.json")
        base = "http://cyclonedx.org/schema/"
        resources = []
        for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"):
            contents = load(name)
            resource = referencing.jsonschema.DRAFT7.create_resource(contents)
            resources.append((base + name, resource))
            if "$id" in contents:
                resources.append((contents["$id"], resource))
        registry = referencing.Registry().with_resources(resources)
        validator = jsonschema.Draft7Validator(schema, registry=registry)
    elif kind == "spdx":
        schema = load("spdx-2.3.schema.json")
        validator = jsonschema.Draft201909Validator(schema)
    else:
        sys.exit(f"unknown kind {kind!r}")
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors[:50]:
        print(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}")
    if errors:
        print(f"{len(errors)} schema violation(s) in {path}")
        sys.exit(1)
    print(f"{path}: valid {kind}")


if __name__ == "__main__":
    main()
