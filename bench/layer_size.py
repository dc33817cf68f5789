"""The shared layer's unpacked size, as `make build` left it in .aws-sam/build (goal <= 60 MB).

Sizes are of the files (what the layer's zip unpacks to, which Lambda's 250 MB limit counts), in MB
of 10^6 bytes; `du -sh` reports more, in MiB of disk blocks.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILT = ROOT / ".aws-sam" / "build"
LAYER = BUILT / "SharedLayer"
GOAL_MB = 60


def size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> int:
    if not (LAYER / "python").is_dir():
        print("layer size: no built layer in .aws-sam/build: run make build first")
        return 0
    files = [f for f in LAYER.rglob("*") if f.is_file()]
    total = sum(f.stat().st_size for f in files)
    built = (LAYER / "python").stat().st_mtime
    changed = [p for p in (ROOT / "src").rglob("*") if p.is_file() and "__pycache__" not in p.parts
               and ".egg-info" not in str(p) and p.stat().st_mtime > built]
    stale = f" (stale: {len(changed)} files in src/ changed since; make build)" if changed else ""
    print(f"shared layer, unpacked: {total / 1e6:.1f} MB in {len(files)} files (goal <= {GOAL_MB} MB){stale}")
    parts: dict[str, int] = {}
    for entry in (LAYER / "python").iterdir():
        # the distributions' metadata (licences, METADATA) together, as one part
        key = "*.dist-info" if entry.name.endswith(".dist-info") else entry.name
        parts[key] = parts.get(key, 0) + size(entry)
    largest = sorted(parts.items(), key=lambda kv: -kv[1])[:8]
    print("  largest: " + ", ".join(f"{name} {n / 1e6:.1f}" for name, n in largest) + " (MB)")
    functions = {d.name: size(d) for d in BUILT.iterdir() if d.is_dir() and d.name != "SharedLayer"}
    print(f"  each function's own code: {max(functions.values()) / 1e3:.0f} kB at most ({len(functions)} functions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
