"""Decoding, whitespace and CJK/Latin spacing helpers shared by every reader."""

from __future__ import annotations

import codecs

import pytest

from parsers.text import (
    canonical_charset,
    clean_paragraph,
    decode_text,
    fix_cjk_digit_spaces,
    join_wrapped,
    normalize_space,
)

TEXT = "重庆市永川区人民政府关于印发元宇宙产业发展三年行动计划（2023-2025年）的通知"


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), None),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), None),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), None),
        (TEXT.encode("utf-8"), None),
        (TEXT.encode("gb2312"), None),
        (TEXT.encode("gbk"), "gb2312"),
        (TEXT.encode("gb18030"), "x-gbk"),
        (TEXT.encode("gbk"), "CP936"),
        # A page that says utf-8 but is GBK: the strict GB18030 attempt wins.
        (TEXT.encode("gbk"), "utf-8"),
    ],
)
def test_decode_text(data: bytes, declared: str | None) -> None:
    assert decode_text(data, declared) == TEXT


def test_gb_family_decoded_as_gb18030() -> None:
    # 镕 is in GBK but not GB2312: a page declaring gb2312 still decodes.
    data = "朱镕基".encode("gbk")
    assert decode_text(data, "gb2312") == "朱镕基"
    assert canonical_charset("GB2312") == "gb18030"
    assert canonical_charset("no-such-charset") is None


def test_decode_bom_beats_declared() -> None:
    assert decode_text(codecs.BOM_UTF8 + "元宇宙".encode(), "gbk") == "元宇宙"


def test_decode_last_resort_never_raises() -> None:
    data = b"\xff\xfe\xfd" * 3 + b"abc"
    assert isinstance(decode_text(b"\x81" + data), str)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("\u3000\u3000各镇人民政府\u00a0 街道", "各镇人民政府 街道"),
        ("元\u200b宇\ufeff宙", "元宇宙"),
        ("  a \r\n b  ", "a b"),
        ("单位\t \t 名称", "单位\t名称"),
        ("复  函", "复 函"),
    ],
)
def test_normalize_space(raw: str, want: str) -> None:
    assert normalize_space(raw) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("第 343 号", "第343号"),
        ("2022 年 1 月 24 日", "2022年1月24日"),
        ("Web3.0 技术", "Web3.0技术"),
        ("推动优秀 IP 创作", "推动优秀IP创作"),
        ("引进 50 家以上，占比 30% 以上", "引进50家以上，占比30%以上"),
        ("Meta Sports 平台", "Meta Sports平台"),
        ("VR AR", "VR AR"),
        ("1. 做强算力赛道", "1. 做强算力赛道"),
        ("复 函", "复 函"),
    ],
)
def test_fix_cjk_digit_spaces(raw: str, want: str) -> None:
    assert fix_cjk_digit_spaces(raw) == want


def test_clean_paragraph_combines_both() -> None:
    assert clean_paragraph("\u3000\u3000力争到 2025 年，产业规模达到 1500 亿元 ") == (
        "力争到2025年，产业规模达到1500亿元"
    )


@pytest.mark.parametrize(
    ("a", "b", "space", "want"),
    [
        ("数字经济", "产业", False, "数字经济产业"),
        ("（2023-", "2025）", False, "（2023-2025）"),
        ("Meta", "Sports", False, "Meta Sports"),
        ("IPv6", "规模化", False, "IPv6规模化"),
        ("version 2", "3", True, "version 2 3"),
    ],
)
def test_join_wrapped(a: str, b: str, space: bool, want: str) -> None:
    assert join_wrapped(a, b, space) == want
