"""Amounts in Chinese capitals (大写金额) following the PRC financial writing rules.

Rules applied (《正确填写票据和结算凭证的基本规定》):

* prefix 人民币; digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿; a leading ten is 壹拾;
* a run of zeros inside the number is written as one 零; zeros that end a 万/亿 group are
  absorbed by the group unit (107000 → 壹拾万柒仟);
* ending at 元 → 元整; 角 without 分 → no 整; with 分 → nothing after 分;
* 元 digit 0 with 角 not 0 → 元零X角 (107000.53 → 壹拾万柒仟元零伍角叁分);
  角 0 with 分 not 0 → 元零X分 (1005.07 → 壹仟零伍元零柒分);
* amounts below one yuan start at 角/分 (0.05 → 人民币伍分); zero → 人民币零元整.
"""

from __future__ import annotations

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
GROUP_UNITS = ("", "万", "亿")
# 9999 9999 9999.99 yuan: 万亿 has no standard single unit, refuse above it.
MAX_FEN = 10**12 * 100 - 1


def _integer_words(n: int) -> str:
    """Yuan integer part (n > 0) in capitals, without the 元."""
    digits = str(n)
    length = len(digits)
    out: list[str] = []
    pending_zero = False
    group_has_digit = False
    for i, ch in enumerate(digits):
        pos = length - 1 - i  # 0 = units
        d = int(ch)
        if d == 0:
            if out:
                pending_zero = True
        else:
            if pending_zero:
                out.append("零")
                pending_zero = False
            out.append(DIGITS[d] + SMALL_UNITS[pos % 4])
            group_has_digit = True
        if pos % 4 == 0 and pos > 0:
            if group_has_digit:
                out.append(GROUP_UNITS[pos // 4])
                # a zero run at the end of a group is absorbed by its unit
                pending_zero = False
            group_has_digit = False
    return "".join(out)


def amount_upper(fen: int, *, prefix: bool = True) -> str:
    """``fen`` (integer, ≥ 0) → e.g. ``人民币壹拾贰万元整``."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amount must be an integer number of fen")
    if fen < 0:
        raise ValueError("negative amounts cannot be written in capitals")
    if fen > MAX_FEN:
        raise ValueError("amount too large")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    head = "人民币" if prefix else ""
    if yuan == 0:
        if cents == 0:
            return head + "零元整"
        text = (DIGITS[jiao] + "角" if jiao else "") + (
            DIGITS[fen_digit] + "分" if fen_digit else ""
        )
        return head + text
    text = _integer_words(yuan) + "元"
    if cents == 0:
        return head + text + "整"
    if jiao == 0:
        return head + text + "零" + DIGITS[fen_digit] + "分"
    if yuan % 10 == 0:
        text += "零"
    text += DIGITS[jiao] + "角"
    if fen_digit:
        text += DIGITS[fen_digit] + "分"
    return head + text
