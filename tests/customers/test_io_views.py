import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from credo.customers import services
from credo.customers.models import Customer
from tests.customers.conftest import make_id, make_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def io_client(client, owner, customer_perms, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    customer_perms.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers",
            codename__in=["import_customers", "export_customers"],
        )
    )
    client.force_login(owner)
    return client


def _csv(rows):
    text = "客户类型,名称/姓名,统一社会信用代码,身份证号,手机号,所在地区\n" + "\n".join(rows)
    return SimpleUploadedFile("客户.csv", text.encode("utf-8-sig"), content_type="text/csv")


def test_upload_preview_then_all_or_nothing_and_valid_only(io_client):
    good = f"企业,太原甲公司,{make_uscc(71)},,0351-1234567,140105"
    good2 = f"个人,张三,,{make_id(72)},13812345678,山西省太原市小店区"
    wrong = make_id(73)
    wrong = wrong[:-1] + ("1" if wrong[-1] != "1" else "2")  # wrong check character
    bad = f"个人,李四,,{wrong},13812345679,140105"
    resp = io_client.post(reverse("customers:import"), {"file": _csv([good, bad, good2])})
    assert resp.status_code == 302
    page = io_client.get(reverse("customers:import_preview")).content.decode()
    assert "身份证号" in page and "校验位" in page and "<td>3</td>" in page
    io_client.post(reverse("customers:import_confirm"), {"mode": "all_or_nothing"})
    assert Customer.objects.count() == 0
    io_client.post(reverse("customers:import"), {"file": _csv([good, bad, good2])})
    resp = io_client.post(reverse("customers:import_confirm"), {"mode": "valid_only"})
    assert resp.status_code == 302 and Customer.objects.count() == 2
    assert Customer.objects.get(name="张三").region_code == "140105"


def test_rejects_other_file_types(io_client):
    resp = io_client.post(
        reverse("customers:import"), {"file": SimpleUploadedFile("x.exe", b"MZ")}, follow=True
    )
    assert "只支持" in resp.content.decode()


def test_export_is_masked_xlsx(io_client, owner, individual_data):
    services.customer_create(actor=owner, data=individual_data)
    resp = io_client.get(reverse("customers:export"))
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(resp.content)).worksheets[0]
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "李小明" in values
    assert individual_data["id_number"] not in values
    assert any(isinstance(v, str) and "*" in v for v in values)
