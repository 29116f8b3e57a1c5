"""Pure guardrail arithmetic: quiet window end, backoff delays, gateway signatures."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credo.notify.guardrails import backoff_delay, parse_window, quiet_until
from credo.notify.signing import dingtalk_sign, dingtalk_url, sms_signature

SH = ZoneInfo("Asia/Shanghai")
WINDOW = parse_window("22:00-08:00")


def test_parse_window():
    assert (dt.time(22), dt.time(8)) == WINDOW
    assert parse_window("") is None and parse_window("off") is None
    with pytest.raises(ValueError):
        parse_window("late")


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (dt.datetime(2026, 3, 10, 21, 59), None),
        (dt.datetime(2026, 3, 10, 22, 0), dt.datetime(2026, 3, 11, 8, 0)),
        (dt.datetime(2026, 3, 10, 23, 30), dt.datetime(2026, 3, 11, 8, 0)),
        (dt.datetime(2026, 3, 11, 0, 0), dt.datetime(2026, 3, 11, 8, 0)),
        (dt.datetime(2026, 3, 11, 7, 59), dt.datetime(2026, 3, 11, 8, 0)),
        (dt.datetime(2026, 3, 11, 8, 0), None),
        (dt.datetime(2026, 3, 11, 12, 0), None),
    ],
)
def test_quiet_until_crossing_midnight(local, expected):
    got = quiet_until(local.replace(tzinfo=SH), WINDOW, "Asia/Shanghai")
    assert got == (expected.replace(tzinfo=SH) if expected else None)


def test_quiet_until_uses_the_window_time_zone():
    # 15:00 UTC is 23:00 in Shanghai → deferred to 08:00 Shanghai (= 00:00 UTC next day).
    now = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
    assert quiet_until(now, WINDOW, "Asia/Shanghai") == dt.datetime(
        2026, 3, 11, 0, 0, tzinfo=dt.UTC
    )


def test_same_day_window():
    window = parse_window("12:00-14:00")
    assert quiet_until(dt.datetime(2026, 3, 10, 13, 0, tzinfo=SH), window, "Asia/Shanghai") == (
        dt.datetime(2026, 3, 10, 14, 0, tzinfo=SH)
    )
    assert quiet_until(dt.datetime(2026, 3, 10, 23, 0, tzinfo=SH), window, "Asia/Shanghai") is None


@given(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)))
def test_quiet_until_is_outside_window_and_within_10h(naive):
    now = naive.replace(tzinfo=SH)
    until = quiet_until(now, WINDOW, "Asia/Shanghai")
    if until is None:
        assert dt.time(8) <= now.time() < dt.time(22)
    else:
        assert now < until <= now + dt.timedelta(hours=10)
        assert until.astimezone(SH).time() == dt.time(8)
        assert quiet_until(until, WINDOW, "Asia/Shanghai") is None


def test_backoff():
    sched = [1, 5, 25, 125]
    assert [backoff_delay(n, sched) for n in (1, 2, 3, 4, 5)] == [
        dt.timedelta(minutes=m) for m in (1, 5, 25, 125, 125)
    ]


def test_dingtalk_sign_known_answer():
    # Independently computed: printf '1700000000000\nSECtest' | openssl dgst -sha256 -hmac SECtest
    # -binary | base64  → then URL-encoded.
    assert dingtalk_sign("SECtest", 1700000000000) == (
        "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D"
    )
    url = dingtalk_url(
        "https://oapi.dingtalk.com/robot/send?access_token=x", "SECtest", 1700000000000
    )
    assert url.endswith(
        "&timestamp=1700000000000&sign=aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D"
    )
    assert dingtalk_url("https://h/robot?t=1", "", 1) == "https://h/robot?t=1"


def test_sms_signature_known_answer():
    # printf 'k1' | openssl dgst -sha256 -hmac s3cret
    assert sms_signature("s3cret", "k1") == (
        "ac76b1d8dd01f5b5bff4a1e9b0d8826780d75242070e0ad8fe482b1e13adb62e"
    )
