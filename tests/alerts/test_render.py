"""Rendering and message assembly: subject, both parts, escaping, header hygiene."""

from __future__ import annotations

import email
import email.policy

import pytest

from alerts.errors import InvalidToken
from alerts.headers import clean_header
from alerts.message import compose, message_id_for
from alerts.render import SectionView, change_view, render_alert, sort_changes
from alerts.tokens import make_token, read_token

GOAL = {
    "kind": "goal_changed",
    "severity": "alert",
    "task": None,
    "before": {
        "text": "产业规模达到1500亿元",
        "metric": "产业规模",
        "value": 1500,
        "unit": "亿元",
        "year": 2025,
    },
    "after": {
        "text": "产业规模达到2000亿元",
        "metric": "产业规模",
        "value": 2000,
        "unit": "亿元",
        "year": 2025,
    },
    "summary": "产业规模 1500亿元 → 2000亿元",
}
UNITS = {
    "kind": "units_changed",
    "severity": "alert",
    "task": "做强算力赛道",
    "added": ["区金融办"],
    "removed": ["区城管执法局"],
}
MOVED = {
    "kind": "task_moved",
    "severity": "info",
    "task": "共创“元健康”场景",
    "summary": "13. → 12.",
}


def _section(**kw: object) -> SectionView:
    base: dict[str, object] = {
        "change_set_id": 7,
        "title": "黄浦区可再生能源发展行动方案",
        "issuer": "黄浦区人民政府",
        "from_date": "2023-01-01",
        "to_date": "2024-03-01",
        "source_url": "https://www.example.gov.cn/a.html",
        "diff_url": "https://radar.example.org/changes/7",
    }
    base.update(kw)
    return SectionView(**base)  # type: ignore[arg-type]


def _render(section: SectionView):  # type: ignore[no-untyped-def]
    return render_alert([section], manage_url="https://r/m?t=1", unsubscribe_url="https://r/u?t=1")


def test_subject_counts_like_the_issue_example() -> None:
    goal2 = {**GOAL, "summary": "x"}
    section = _section(
        alerts=[
            change_view(UNITS, 3),
            change_view(GOAL, 1),
            change_view(goal2, 2),
            change_view(UNITS, 4),
        ]
    )
    assert (
        _render(section).subject
        == "【政策变更】黄浦区可再生能源发展行动方案：2项目标调整，2项责任单位调整"
    )


def test_most_important_first_and_info_summarized_below() -> None:
    views = sort_changes([change_view(MOVED, 0), change_view(UNITS, 1), change_view(GOAL, 2)])
    assert [v.kind for v in views] == ["goal_changed", "units_changed", "task_moved"]
    section = _section(
        alerts=[change_view(UNITS, 1), change_view(GOAL, 2)], infos=[change_view(MOVED, 0)]
    )
    out = _render(section)
    for part in (out.text, out.html):
        assert part.index("2000亿元") < part.index("区金融办") < part.index("其他1处非实质性调整")
        assert "区城管执法局" in part and "共创“元健康”场景" in part
        assert (
            "https://www.example.gov.cn/a.html" in part
            and "https://radar.example.org/changes/7" in part
        )
        assert "2023-01-01" in part and "2024-03-01" in part and "黄浦区人民政府" in part
    assert "1500亿元 → 2000亿元" in out.text
    assert "+区金融办" in out.text and "−区城管执法局" in out.text


def test_document_values_are_escaped_in_html() -> None:
    evil = '<script>alert(1)</script>"&'
    section = _section(
        title=f"方案{evil}",
        alerts=[change_view({**UNITS, "task": evil, "added": [evil]}, 0)],
        source_url='javascript:alert(1)" onmouseover="x',
    )
    out = _render(section)
    assert "<script>" not in out.html
    assert "&lt;script&gt;" in out.html
    assert 'onmouseover="x' not in out.html
    assert "javascript:" not in out.html
    assert "<script>" in out.text  # plain text carries it verbatim (nothing to execute)


def test_headers_strip_cr_lf_nul() -> None:
    section = _section(title="方案\r\nBcc: victim@example.org\x00", alerts=[change_view(GOAL, 0)])
    out = _render(section)
    msg = compose(
        out,
        sender="政策雷达 <radar@radar.example.org>",
        recipient="a@example.org\r\nBcc: x@example.org",
        message_id=message_id_for("cs7.s1", "radar.example.org"),
        unsubscribe_url="https://radar.example.org/unsubscribe?token=abc",
        unsubscribe_mailto="mailto:unsubscribe@radar.example.org?subject=unsubscribe",
    )
    raw = msg.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert "\x00" not in str(parsed["Subject"]) and "\n" not in str(parsed["Subject"])
    assert parsed["Message-ID"] == "<radar.cs7.s1@radar.example.org>"
    assert parsed["List-Unsubscribe"] == (
        "<https://radar.example.org/unsubscribe?token=abc>, "
        "<mailto:unsubscribe@radar.example.org?subject=unsubscribe>"
    )
    assert b"List-Unsubscribe: <https://" in raw  # plain ASCII, not an encoded word
    assert parsed.get_body(("plain",)) is not None and parsed.get_body(("html",)) is not None
    assert clean_header("a\u2028b\x7fc") == "a b c"


def test_new_document_headline() -> None:
    from alerts.render import NewTaskView

    tasks = [
        NewTaskView(number=f"{i}.", title=f"任务{i}", units=["区发展改革委"]) for i in range(12)
    ]
    section = _section(is_new_document=True, new_tasks=tasks, focus_unit="区发展改革委")
    assert (
        _render(section).subject
        == "【新文件】黄浦区可再生能源发展行动方案：为区发展改革委分配12项任务"
    )


def test_tokens_are_bound_to_secret_and_purpose() -> None:
    token = make_token("s3cret", "confirm", 5, "a@example.org")
    claims = read_token("s3cret", "confirm", token)
    assert (claims.subscription_id, claims.email) == (5, "a@example.org")
    with pytest.raises(InvalidToken):
        read_token("other", "confirm", token)
    with pytest.raises(InvalidToken):
        read_token("s3cret", "unsubscribe", token)
    with pytest.raises(InvalidToken, match="expired"):
        read_token("s3cret", "confirm", token, max_age=-1)
