"""The checks run after a restore has loaded the database and the documents: row counts and
migrations against the manifest (newer code: ``migrate``), document rows without their file,
the encryption keys, and the registered integrity checks (the audit chain is registered here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection

from credo.core.backup.common import credo_version
from credo.core.backup.dbtools import applied_migrations, count_rows, table_names
from credo.core.backup.files import document_roots
from credo.core.backup.registry import (
    IntegrityResult,
    iter_file_references,
    register_integrity_check,
)
from credo.core.backup.report import RestoreReport


def compare_counts(report: RestoreReport, manifest: dict[str, Any]) -> None:
    expected: dict[str, int] = {str(k): int(v) for k, v in manifest.get("row_counts", {}).items()}
    with connection.cursor() as cursor:
        present = set(table_names(cursor))
        counts = count_rows(
            cursor, [t for t in expected if t in present], connection.ops.quote_name
        )
    problems = [f"缺少表 {t}（清单 {n} 行）" for t, n in expected.items() if t not in present]
    problems += [
        f"{t}: 清单 {n} 行，恢复后 {counts[t]} 行"
        for t, n in expected.items()
        if t in counts and counts[t] != n
    ]
    extra = sorted(present - set(expected))
    problems += [f"清单中没有的表：{t}" for t in extra]
    rows = sum(expected.values())
    if problems:
        report.add("row_counts", False, f"行数与清单不符（{len(problems)} 处）", problems)
    else:
        report.add("row_counts", True, f"{len(expected)} 张表、{rows} 行与清单一致")


def compare_migrations(report: RestoreReport, manifest: dict[str, Any]) -> None:
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    expected = {
        (app, name) for app, names in manifest.get("migrations", {}).items() for name in names
    }
    with connection.cursor() as cursor:
        applied = {
            (app, name) for app, names in applied_migrations(cursor).items() for name in names
        }
    if applied != expected:
        diff = [f"清单有而数据库没有：{a}.{n}" for a, n in sorted(expected - applied)]
        diff += [f"数据库有而清单没有：{a}.{n}" for a, n in sorted(applied - expected)]
        report.add("migrations", False, "迁移记录与清单不符", diff)
        return
    executor = MigrationExecutor(connection)
    unknown = sorted(
        (a, n)
        for a, n in applied
        if (a, n) not in executor.loader.graph.nodes and a in executor.loader.migrated_apps
    )
    if unknown:
        report.add(
            "migrations",
            False,
            "备份来自较新的 Credo：数据库含有本程序没有的迁移。请先升级 Credo 再恢复"
            f"（备份版本 {manifest.get('credo_version')}，本程序 {credo_version()}）。",
            [f"{a}.{n}" for a, n in unknown[:50]],
        )
        return
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        report.add("migrations", True, f"迁移状态与清单、代码一致（{len(applied)} 个迁移）")
        return
    pending = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    call_command("migrate", interactive=False, verbosity=0)
    report.migrated = pending
    report.add(
        "migrations",
        True,
        f"代码比备份新：已执行 migrate（{len(pending)} 个新迁移）",
        pending,
        warning=True,
    )


def check_missing_files(report: RestoreReport, manifest: dict[str, Any]) -> None:
    roots = document_roots()
    known = set(manifest.get("documents", {}).get("missing_at_backup", []))
    new: list[str] = []
    old: list[str] = []
    total = 0
    for root_name, rel, label in iter_file_references():
        total += 1
        root = roots.get(root_name)
        if root is not None and (root / rel).is_file():
            continue
        line = f"{label}: {root_name}/{rel}"
        (old if line in known else new).append(line)
    if new:
        report.add(
            "documents_missing",
            False,
            f"{len(new)} 条数据库记录引用的文件缺失",
            new[:50] + ([f"…… 另有 {len(new) - 50} 条"] if len(new) > 50 else []),
        )
    elif old:
        report.add(
            "documents_missing",
            True,
            f"{len(old)} 条记录的文件在备份时就已缺失（与源系统一致）",
            old[:50],
            warning=True,
        )
    else:
        report.add("documents_missing", True, f"{total} 条文件引用均有对应文件")


def check_keys(report: RestoreReport, manifest: dict[str, Any]) -> None:
    from credo.core.crypto import keyring
    from credo.core.keys import probe_stored_keys

    ring = keyring()
    backed = [str(k) for k in manifest.get("keys", {}).get("encryption_key_ids", [])]
    absent = [k for k in backed if k not in ring.keys]
    bad: list[str] = []
    tried = 0
    for kid, probe in sorted(probe_stored_keys(sample=3).items()):
        tried += probe.tried
        if not probe.configured:
            bad.append(f"密钥 {kid} 未配置，但数据用它加密")
        elif probe.failed:
            bad.append(f"密钥 {kid} 解不开 {len(probe.failed)}/{probe.tried} 个抽样值")
    if bad:
        report.add(
            "keys",
            False,
            "加密密钥与恢复的数据不匹配：请配置备份时使用的 CREDO_ENCRYPTION_KEYS",
            bad,
        )
    elif absent:
        report.add(
            "keys",
            True,
            f"备份时配置的密钥 {', '.join(absent)} 当前未配置（抽样数据均可解密）",
            warning=True,
        )
    else:
        report.add("keys", True, f"加密密钥可解密抽样数据（{tried} 个值）")


def _audit_check() -> IntegrityResult:
    from credo.core.audit.services import audit_verify

    result = audit_verify()
    checked = getattr(result, "checked", None)
    if result.ok:
        return IntegrityResult(True, f"审计链完整（{checked} 条）" if checked else "审计链完整")
    details = [str(p) for p in getattr(result, "problems", ())]
    hint = (
        "若恢复的是较早的备份而审计锚点文件（CREDO_AUDIT_ANCHOR_FILE）保留了备份之后的检查点，"
        "这里报告的“尾部被删除”正是备份之后丢失的记录：核对后归档旧锚点文件再运行 "
        "credo audit verify。"
    )
    return IntegrityResult(False, f"审计链校验失败：{result.reason}", [*details, hint])


register_integrity_check("audit", "审计链", _audit_check)


# The steps run after loading, in order (each reported; an error in one does not stop the others).
RESTORE_CHECKS: list[tuple[str, Callable[[RestoreReport, dict[str, Any]], None]]] = [
    ("row_counts", compare_counts),
    ("migrations", compare_migrations),
    ("documents_missing", check_missing_files),
    ("keys", check_keys),
]
