#!/usr/bin/env python3
"""Validates every example network against `spikeforge schema`.

Catches drift between the JSON Schema (derived from the Rust types) and the
files the project itself ships. Usage: check_schema.py SCHEMA.json
Needs python3-jsonschema (Debian) or `pip install jsonschema`.
"""

import json
import pathlib
import sys
import tomllib

import jsonschema

HERE = pathlib.Path(__file__).resolve().parent
schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
validator = jsonschema.Draft202012Validator(schema)
files = sorted(HERE.glob("*/net.*")) + sorted((HERE.parent / "tests/corpus/stimulus").glob("net.toml"))
bad = 0
for f in files:
    doc = json.loads(f.read_text()) if f.suffix == ".json" else tomllib.loads(f.read_text())
    errors = list(validator.iter_errors(doc))
    for e in errors:
        print(f"{f}: {e.json_path}: {e.message}")
    bad += len(errors)
# The schema must also reject what it should: a population without a name.
if validator.is_valid({"format": 1, "populations": [{"size": 1}]}):
    print("schema accepts a population without a name")
    bad += 1
print(f"schema: {len(files)} files checked, {bad} problems")
sys.exit(1 if bad else 0)
