"""The email of a deadline change shows the year before and after (issue 10).

Rendered from the real diff of tests/fixtures/corpus/rev_d_deadline_split (PDF → DOCX).
"""

from __future__ import annotations

from pathlib import Path

from alerts.render import SectionView, change_view, render_alert
from parsers import parse_bytes
from parsers.diff import diff_documents

CASE = Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "rev_d_deadline_split"


def _section() -> SectionView:
    old = parse_bytes((CASE / "old.pdf").read_bytes(), filename="old.pdf")
    new = parse_bytes((CASE / "new.docx").read_bytes(), filename="new.docx")
    changes = diff_documents(old, new).to_json_dict()["changes"]
    alerts = [change_view(c, i) for i, c in enumerate(changes) if c["severity"] == "alert"]
    return SectionView(change_set_id=1, title=new.title or "", alerts=alerts)


def test_deadline_change_has_its_own_label_and_years_in_every_part() -> None:
    email = render_alert([_section()], manage_url="https://r/m", unsubscribe_url="https://r/u")
    assert "3项目标调整，1项责任单位调整" in email.subject
    for body in (email.text, email.html):
        assert "完成期限调整" in body
        assert "公共机构屋顶光伏应装尽装" in body
        assert "2030年" in body and "2028年" in body
        assert "≥30%" in body and "≥20%" in body  # the split goal, by value
        assert "市新经济委" in body and "市经信局" in body
    assert "完成期限：2030年 → 2028年" in email.text
    assert "完成期限：2025年 → 2026年" in email.text


def test_value_goal_keeps_the_goal_label() -> None:
    views = {v.summary: v for v in _section().alerts}
    assert views["其他公共建筑屋顶光伏面积比例 30% → 20%"].label == "目标调整"
    assert views["公共机构屋顶光伏应装尽装 2030年 → 2028年"].label == "完成期限调整"
