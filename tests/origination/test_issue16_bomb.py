"""Issue 16 item 8: an image decompression bomb is refused from its header, nothing stored."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from credo.origination import documents, services
from credo.origination.errors import InvalidDocument
from credo.origination.models import Document
from tests.origination.conftest import png_bytes

pytestmark = pytest.mark.django_db


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int = 13000, height: int = 13000) -> bytes:
    """A valid 1-bit greyscale PNG of width × height blank pixels: ~30 KB on disk, 169 MB as a
    decoded Pillow image. Built chunk by chunk so the test itself never holds the pixels."""
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def _restore_pillow_cap(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return bomb_png()


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail loudly if any pixel data is decoded (the refusal must come from the header)."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("image pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image.Image, "load", refuse)


def test_bomb_png_is_small_but_huge(bomb, monkeypatch):
    assert len(bomb) < 500_000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # only read the header here
    with Image.open(io.BytesIO(bomb)) as img:
        assert img.size == (13000, 13000)


def test_check_upload_refuses_bomb_from_header(bomb, no_decoding):
    with pytest.raises(InvalidDocument) as err:
        documents.check_upload(item="营业执照", name="licence.png", data=bomb)
    assert "像素过大" in err.value.message
    assert "4000 万像素" in err.value.message


def test_pillow_guard_follows_the_configured_cap(settings, bomb):
    settings.CREDO_MAX_IMAGE_PIXELS = 1_000_000
    with pytest.raises(InvalidDocument) as err:
        documents.check_upload(item="营业执照", name="a.png", data=png_bytes((1001, 1000)))
    assert "像素过大" in err.value.message and "100 万像素" in err.value.message
    assert Image.MAX_IMAGE_PIXELS == 1_000_000
    # just under the cap is fine
    documents.check_upload(item="营业执照", name="a.png", data=png_bytes((1000, 1000)))


def test_pillow_bomb_warning_is_a_refusal(settings, monkeypatch):
    """Even when the header check were bypassed, Pillow's own DecompressionBombWarning refuses."""
    settings.CREDO_MAX_IMAGE_PIXELS = 100
    with pytest.raises(InvalidDocument) as err:
        documents.check_upload(item="营业执照", name="a.png", data=png_bytes((11, 10)))
    assert "像素过大" in err.value.message


def test_api_upload_of_bomb_is_422_and_nothing_stored(
    client, owner, make_app, document_root, bomb, no_decoding
):
    from tests.lending.test_api import auth

    app = make_app()
    resp = client.post(
        f"/api/v1/origination/applications/{app.pk}/documents",
        {"item": "营业执照", "file": SimpleUploadedFile("licence.png", bomb, "image/png")},
        **auth(owner),
    )
    assert resp.status_code == 422, resp.content
    body = resp.json()
    assert body["code"] == "invalid_document" and "像素过大" in body["message"]
    assert Document.objects.count() == 0
    assert not document_root.exists() or not any(p.is_file() for p in document_root.rglob("*"))


def test_portal_upload_of_bomb_refused_nothing_stored(
    client, owner, make_app, document_root, bomb, no_decoding
):
    app = make_app()
    _link, token = services.portal_link_create(application=app, actor=owner)
    resp = client.post(
        f"/portal/{token}/upload/",
        {"item": "营业执照", "file": SimpleUploadedFile("licence.png", bomb, "image/png")},
        follow=True,
    )
    assert resp.status_code == 200
    assert "像素过大" in resp.content.decode()
    assert Document.objects.count() == 0
    assert not document_root.exists() or not any(p.is_file() for p in document_root.rglob("*"))
