"""Reading a training CSV."""

from __future__ import annotations

import os
from typing import IO, Any

from credo.core import tabular
from credo.scorecard.engine.values import TrainingError

# --------------------------------------------------------------------------------------------
# CSV


def decode(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else GBK/GB18030."""
    try:
        return tabular.decode_csv(data)
    except tabular.TableError:
        raise TrainingError("无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV") from None


def same_value(a: str, b: str) -> bool:
    """Target value equality as text or as a number ("1.0" == "1")."""
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def _columns(names: list[str], ti: int, notes: list[str]) -> list[tuple[int, str]]:
    """Column positions and keys except the target (duplicate or empty names get a suffix)."""
    seen: dict[str, int] = {}
    cols: list[tuple[int, str]] = []
    for i, nm in enumerate(names):
        if i == ti:
            continue
        base = nm or f"列{i + 1}"
        key = base
        if key in seen:
            seen[base] += 1
            key = f"{base}_{seen[base]}"
            notes.append(f"列名“{base}”重复，第 {i + 1} 列改名为“{key}”")
        else:
            seen[key] = 1
        cols.append((i, key))
    return cols


def read_csv(
    stream: IO[str] | IO[bytes] | str | os.PathLike[str],
    target: str,
    bad_value: str,
    *,
    max_rows: int | None = None,
) -> tuple[dict[str, list[Any]], list[int], list[str]]:
    """Read a training CSV: ``(columns except target, target 0/1, notes)``.

    ``stream`` is a path (UTF-8 with or without BOM, GBK fallback), a text stream or a binary
    stream. Cells are stripped; empty cells become ``None``. A row is bad when its target equals
    ``bad_value`` (as stripped strings, or numerically: "1.0" == "1"); rows with an empty target are
    skipped.
    """
    if isinstance(stream, (str, os.PathLike)):
        with open(stream, "rb") as fh:
            text = decode(fh.read())
    else:
        data = stream.read()
        text = decode(data) if isinstance(data, bytes) else data
    text = text.lstrip("\ufeff")
    reader = tabular.csv_rows(text)
    header = next(reader, None)
    if not header:
        raise TrainingError("CSV 文件是空的")
    names = [h.strip().lstrip("\ufeff") for h in header]
    tname = target.strip()
    if tname not in names:
        raise TrainingError(f"CSV 中没有目标列 “{tname}”")
    notes: list[str] = []
    ti = names.index(tname)
    bad_s = str(bad_value).strip()
    cols = _columns(names, ti, notes)
    out: dict[str, list[Any]] = {k: [] for _, k in cols}
    ys: list[int] = []
    skipped = 0
    truncated = False
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        if max_rows is not None and len(ys) >= max_rows:
            truncated = True
            break
        t = row[ti].strip() if ti < len(row) else ""
        if not t:
            skipped += 1
            continue
        ys.append(1 if same_value(t, bad_s) else 0)
        width = len(row)
        for i, k in cols:
            v = row[i].strip() if i < width else ""
            out[k].append(v or None)
    if skipped:
        notes.append(f"{skipped} 行目标列为空，已跳过")
    if truncated:
        notes.append(f"只读取了前 {max_rows} 行")
    if not ys:
        raise TrainingError("CSV 中没有数据行")
    nb = sum(ys)
    if nb == 0:
        raise TrainingError(f"目标列 “{tname}” 中没有取值为 “{bad_s}” 的行，请检查坏样本取值")
    if nb == len(ys):
        raise TrainingError("目标列只有一个取值，无法训练")
    return out, ys, notes
