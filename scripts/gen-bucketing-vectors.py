#!/usr/bin/env python3
"""Regenerates spec/bucketing-vectors.json with Python's mmh3 (a third, independent murmur3).

The Rust tests check the engine and a from-the-spec reimplementation against this file, and the
WASM tests check the JS side: three implementations agreeing on every row.
Usage: pip install mmh3 && python3 scripts/gen-bucketing-vectors.py > spec/bucketing-vectors.json
"""
import json

import mmh3

salts = ["new-dashboard", "payment-processor", "checkout-redesign/experiment", "", "flag", "日本語-flag", "a:b"]
units = [
    "", "user-1", "user-2", "user-42", "José", "日本語", "🚀", "👩‍👩‍👧", "ünïcödé", "0", "42", "-7",
    "18446744073709551615", "a" * 1000, "user:with:colons", "space in unit", "tab\tunit", "null", "ß", "İstanbul",
]
rows = []
for salt in salts:
    for unit in units:
        if len(rows) >= 70 and unit not in ("", "José", "日本語", "🚀"):
            continue
        h = mmh3.hash((salt + ":" + unit).encode("utf-8"), 0, signed=False)
        rows.append({"salt": salt, "unit": unit, "hash": h, "bucket": (h * 10000) >> 32})
print(json.dumps({
    "spec": "h = murmur3_x86_32(utf8(salt + ':' + unit), seed 0); bucket = (h * 10000) >> 32",
    "generator": "scripts/gen-bucketing-vectors.py (Python mmh3)",
    "vectors": rows,
}, ensure_ascii=False, indent=1))
