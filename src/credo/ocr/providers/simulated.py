"""The demo provider (模拟): no network, the same answer for the same image.

Values are derived from the image's SHA-256, so a demo shows different, valid-looking people
and companies (ID numbers, 统一社会信用代码 and card numbers with correct check digits) and one
field below the review threshold. ``credo check --deploy`` refuses it in production.
"""

from __future__ import annotations

import hashlib

from credo.core.validators import id_check_char, uscc_check_char
from credo.ocr.providers.base import BACK, BANK_CARD, BUSINESS_LICENSE, ID_CARD, OcrResult

SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"]
COMPANIES = ["晋阳", "汾河", "太行", "龙城", "并州", "五台", "云冈", "壶口", "平遥", "吕梁"]


def luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


class SimulatedOcr:
    code = "simulated"
    label = "模拟识别（演示）"
    simulated = True

    def recognize(self, kind: str, image_bytes: bytes, side: str = "front") -> OcrResult:
        digest = hashlib.sha256(image_bytes).hexdigest()
        n = int(digest[:12], 16)
        fields: dict[str, tuple[str, float]]
        if kind == ID_CARD and side == BACK:
            fields = {
                "authority": ("太原市公安局小店分局", 0.97),
                "valid_from": ("2016.03.01", 0.95),
                "valid_to": ("2036.03.01", 0.72),
            }
        elif kind == ID_CARD:
            year, month, day = 1970 + n % 30, 1 + n % 12, 1 + n % 28
            first17 = f"140105{year:04d}{month:02d}{day:02d}{n % 1000:03d}"
            fields = {
                "name": (SURNAMES[n % 10] + GIVEN[(n // 10) % 10], 0.98),
                "sex": ("男" if (n % 1000) % 2 else "女", 0.99),
                "nation": ("汉", 0.99),
                "birth": (f"{year}/{month}/{day}", 0.96),
                "address": (f"山西省太原市小店区平阳路{n % 200 + 1}号", 0.74),
                "id_number": (first17 + id_check_char(first17), 0.97),
            }
        elif kind == BUSINESS_LICENSE:
            first17 = f"91140105MA{digest[12:19].upper()}"
            first17 = "".join(c if c in "0123456789ABCDEFGHJKLMNPQRTUWXY" else "0" for c in first17)
            fields = {
                "name": (f"山西{COMPANIES[n % 10]}商贸有限公司", 0.97),
                "uscc": (first17 + uscc_check_char(first17), 0.95),
                "legal_representative": (SURNAMES[n % 10] + GIVEN[(n // 7) % 10], 0.93),
                "registered_capital": (f"人民币{(n % 90 + 10) * 10}万元", 0.9),
                "founded_on": (f"{2005 + n % 15}年0{1 + n % 9}月1{n % 10}日", 0.92),
                "address": (f"山西省太原市小店区长治路{n % 300 + 1}号", 0.71),
                "company_type": ("有限责任公司(自然人投资或控股)", 0.9),
            }
        elif kind == BANK_CARD:
            body = f"621700{n % 10**12:012d}"
            fields = {
                "card_number": (body + luhn_check_digit(body), 0.96),
                "bank_name": ("中国建设银行", 0.98),
                "card_type": ("借记卡", 0.95),
                "valid_to": ("08/2031", 0.7),
            }
        else:  # pragma: no cover - kinds are checked by the service
            raise ValueError(kind)
        return OcrResult(fields=fields, raw={"simulated": True}, request_id=f"sim-{digest[:16]}")
