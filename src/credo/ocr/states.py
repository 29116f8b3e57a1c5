"""The outcome of a recognition is decided once, when its log row is written: no transitions."""

from credo.core.fsm import machine
from credo.ocr.models import OcrRequest

S = OcrRequest.Status

OCR_REQUEST_MACHINE = machine(
    OcrRequest,
    {S.OK: set(), S.FAILED: set(), S.REJECTED: set()},
    initial=[S.OK, S.FAILED, S.REJECTED],
    choices=S,
    note="证照识别记录：写入时即为最终结果（已识别 / 识别失败 / 图片不合格），不再变更。",
)
