"""parsers.numbers: one number string at a time, Decimal-exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from parsers.numbers import cn_to_decimal, parse_number, to_halfwidth


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500", Decimal("1500")),
        ("1,500", Decimal("1500")),
        ("1,200,000", Decimal("1200000")),
        ("1.5", Decimal("1.5")),
        ("0.25", Decimal("0.25")),
        ("１５００", Decimal("1500")),
        ("十五", Decimal("15")),
        ("两千", Decimal("2000")),
        ("一百二十", Decimal("120")),
        ("百分之五十", Decimal("50")),
        ("百分之12.5", Decimal("12.5")),
        ("  300 ", Decimal("300")),
    ],
)
def test_parse_number(text: str, expected: Decimal) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["", "3万", "15,00", "1,5000", "abc", "百分之", "1.5.2", "一批"])
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


def test_parse_number_is_decimal_exact() -> None:
    value = parse_number("0.1")
    assert isinstance(value, Decimal)
    assert value + Decimal("0.2") == Decimal("0.3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("零", 0),
        ("〇", 0),
        ("一", 1),
        ("两", 2),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("二十三", 23),
        ("一百", 100),
        ("一百零五", 105),
        ("一千零十", 1010),
        ("两千", 2000),
        ("三千五百", 3500),
        ("十万", 100000),
        ("三万五千", 35000),
        ("一亿二千万", 120000000),
        ("壹佰", 100),
        ("贰拾叁", 23),
        ("叁仟伍佰", 3500),
        ("二〇二五", 2025),
    ],
)
def test_cn_to_decimal(text: str, expected: int) -> None:
    assert cn_to_decimal(text) == Decimal(expected)


def test_cn_to_decimal_point() -> None:
    assert cn_to_decimal("一点五") == Decimal("1.5")


@pytest.mark.parametrize(
    "text",
    ["", "百", "千", "万", "十十", "五百三千", "三五百", "一批", "统一", "15", "万万", "两两"],
)
def test_cn_to_decimal_rejects(text: str) -> None:
    assert cn_to_decimal(text) is None


def test_to_halfwidth_keeps_length() -> None:
    s = "ＧＤＰ增长６％，１．５万人"
    out = to_halfwidth(s)
    assert out == "GDP增长6%，1．5万人"
    assert len(out) == len(s)
