#!/usr/bin/env python
"""Split the annotated corpus once into train / dev / blind, by a hash of each item's id.

Why a hash: the split must never move (scores across rounds compare the same items) and
must not depend on file order or on who wrote which slice; every voice lands in every
split in proportion (60 / 20 / 20). Run once, when the slices are final:

    python tools/split_corpus.py corpus/raw/slice-*.jsonl --out corpus
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

SPLITS = (("train", 60), ("dev", 80), ("blind", 100))


def split_of(item_id: str) -> str:
    bucket = int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return next(name for name, upper in SPLITS if bucket < upper)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    out: dict[str, list[str]] = {name: [] for name, _ in SPLITS}
    for path in args.files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                out[split_of(item["id"])].append(json.dumps(item, ensure_ascii=False))
    for name, lines in out.items():
        (args.out / f"{name}.jsonl").write_text("\n".join(sorted(lines)) + "\n",
                                                encoding="utf-8")
        print(f"{name}: {len(lines)} items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
