"""Document checklist rules and upload checks (type by extension AND content, size, images).

``ProductVersion.required_documents`` is a list of names ("身份证", "营业执照", …). Each name maps
to the file kinds it accepts and a size limit; unknown names get the default rule. Files are
stored outside the web root (``CREDO_DOCUMENT_ROOT``, default ``<DATA_DIR>/documents``) under a
generated name and are served only through a permission-checked view.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from credo.origination.errors import InvalidDocument

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MB

# kind → (extensions, content type)
KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "pdf": ((".pdf",), "application/pdf"),
    "jpg": ((".jpg", ".jpeg"), "image/jpeg"),
    "png": ((".png",), "image/png"),
    "xlsx": ((".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "docx": (
        (".docx",),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}
IMAGE_OR_PDF = ("jpg", "png", "pdf")


@dataclass(frozen=True)
class ItemRule:
    kinds: tuple[str, ...] = IMAGE_OR_PDF
    max_bytes: int = DEFAULT_MAX_BYTES

    @property
    def extensions(self) -> list[str]:
        return [ext for k in self.kinds for ext in KINDS[k][0]]

    @property
    def accept(self) -> str:
        return ",".join(self.extensions)

    @property
    def max_mb(self) -> int:
        return self.max_bytes // MB


# Matched by substring of the checklist item name, first match wins.
ITEM_RULES: list[tuple[str, ItemRule]] = [
    ("财务报表", ItemRule(kinds=("pdf", "xlsx", "jpg", "png"), max_bytes=20 * MB)),
    ("银行流水", ItemRule(kinds=("pdf", "xlsx"), max_bytes=20 * MB)),
    ("身份证", ItemRule(kinds=("jpg", "png", "pdf"), max_bytes=5 * MB)),
    ("营业执照", ItemRule(kinds=("jpg", "png", "pdf"), max_bytes=5 * MB)),
    ("合同", ItemRule(kinds=("pdf", "docx", "jpg", "png"), max_bytes=20 * MB)),
]
DEFAULT_RULE = ItemRule(kinds=("pdf", "jpg", "png", "xlsx", "docx"))


def rule_for(item: str) -> ItemRule:
    for needle, rule in ITEM_RULES:
        if needle in item:
            return rule
    return DEFAULT_RULE


def document_root() -> Path:
    configured = getattr(settings, "CREDO_DOCUMENT_ROOT", None)
    root = Path(configured) if configured else Path(settings.DATA_DIR) / "documents"
    return root


def sniff(head: bytes) -> str | None:
    """The file kind from its first bytes (magic numbers); None when not an allowed kind."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")


def _office_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    if any(n.startswith("word/") for n in names):
        return "docx"
    return None


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    kind: str
    content_type: str
    ext: str
    sha256: str


def check_upload(*, item: str, name: str, data: bytes) -> CheckedFile:
    """Refuse anything that is not what it claims to be; messages say exactly why."""
    rule = rule_for(item)
    ext = Path(name or "").suffix.lower()
    if not data:
        raise InvalidDocument(_("文件为空。"))
    if len(data) > rule.max_bytes:
        raise InvalidDocument(
            _("文件过大：%(size).1f MB，“%(item)s”最大允许 %(max)s MB。")
            % {"size": len(data) / MB, "item": item, "max": rule.max_mb}
        )
    if ext not in rule.extensions:
        raise InvalidDocument(
            _("“%(item)s”只接受以下格式：%(exts)s。")
            % {"item": item, "exts": "、".join(rule.extensions)}
        )
    head = data[:16]
    if head.startswith(EXECUTABLE_MAGIC):
        raise InvalidDocument(
            _("文件内容是可执行程序或脚本，不是声明的 %(ext)s 文件，已拒绝。") % {"ext": ext}
        )
    kind = sniff(head)
    if kind == "zip":
        kind = _office_kind(data)
    expected = next(k for k in rule.kinds if ext in KINDS[k][0])
    if kind != expected:
        raise InvalidDocument(
            _("文件内容与扩展名 %(ext)s 不符（可能是改名的其他类型文件），已拒绝。") % {"ext": ext}
        )
    if kind in ("jpg", "png"):
        _check_image(data)
    return CheckedFile(
        data=data,
        kind=kind,
        content_type=KINDS[kind][1],
        ext=KINDS[kind][0][0],
        sha256=hashlib.sha256(data).hexdigest(),
    )


DEFAULT_MAX_IMAGE_PIXELS = 40_000_000


def max_image_pixels() -> int:
    """The largest image (width × height) accepted; a 40-megapixel photo or scan is plenty."""
    return int(getattr(settings, "CREDO_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))


def _check_image(data: bytes) -> None:
    """A few hundred KB of PNG can declare 13000×13000 pixels and take hundreds of MB to decode
    (a decompression bomb, reachable by anyone holding a portal link). The size is read from the
    header first and an oversize image is refused before any pixel is decoded; Pillow's own
    bomb guard is set to the same cap and its warning is treated as a refusal too."""
    import warnings

    from PIL import Image

    cap = max_image_pixels()
    Image.MAX_IMAGE_PIXELS = cap
    too_large = InvalidDocument(
        _("图片像素过大（超过 %(max)s 万像素），请压缩或降低分辨率后重新上传。")
        % {"max": cap // 10_000}
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:  # reads the header only
                width, height = img.size
                if width * height > cap:
                    raise too_large
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()
    except InvalidDocument:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except Exception:  # noqa: BLE001 — Pillow raises many types for broken files
        raise InvalidDocument(
            _("图片无法读取（文件损坏或不完整），请重新拍摄或扫描后上传。")
        ) from None


def store(checked: CheckedFile) -> str:
    """Write the file under a generated name; returns the stored name."""
    stored = f"{uuid.uuid4().hex}{checked.ext}"
    root = document_root()
    folder = root / stored[:2]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(checked.data)
    return stored


def path_of(stored_name: str) -> Path:
    return document_root() / stored_name[:2] / stored_name


def remove(stored_name: str) -> None:
    with contextlib.suppress(OSError):
        path_of(stored_name).unlink()


def read_upload(upload: Any, limit: int) -> bytes:
    """Read at most ``limit`` + 1 bytes so an oversize upload is refused without reading it all."""
    data = upload.read(limit + 1)
    return bytes(data)
