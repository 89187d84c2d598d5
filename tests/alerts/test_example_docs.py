"""The committed example email (docs/) is the real renderer's output for seed 002 -> v2."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_example_alert_is_committed_and_complete() -> None:
    text = (DOCS / "example-alert.txt").read_text(encoding="utf-8")
    html = (DOCS / "example-alert.html").read_text(encoding="utf-8")
    assert text.startswith("Subject: 【政策变更】元宇宙产业发展行动方案")
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in text
    for needle in (
        "2000亿元",
        "市数据局",
        "市规划和自然资源局",
        "共创“元消费”场景",
        "共创“元交通”场景",
    ):
        assert needle in text and needle in html
    assert "<style" not in html and 'style="' in html  # inline CSS only
