"""The structural diff on hand-built ParsedDocuments: each rule of the contract on its own."""

from __future__ import annotations

from typing import Any

from parsers.diff import Change, ChangeSet, diff_documents
from parsers.schema import ParsedDocument, Target, Task, Unit

BODY = {
    "算力": "加快构建超算智算云计算边缘计算城市算力架构，强化大规模并行计算、分布式计算等高性能计算研发能力，推进城市算力资源交易。",
    "软件": "依托国家级工业软件协同攻关和体验推广中心，推动典型场景适配验证，培育一批具有国内竞争力的行业标杆平台。",
    "游戏": "推动游戏开发商由内容生产向内容工具平台迭代，支持自研3D引擎，研发制作可编程、再开发类游戏产品。",
    "孪生": "发挥商业卫星产业优势，支持开发自主可控的卫星数字城市建造引擎，完善城市信息模型，培育城市数字空间运营商。",
    "消费": "鼓励商圈、商场引入增强现实、声光等新技术，建设虚拟试穿、AR导购、AR互动游戏等数字消费场景。",
    "交通": "建设交通数字孪生平台，推动自动驾驶测试场景虚实融合，建成一批智慧交通示范场景。",
}
TITLES = {
    "算力": "做强算力赛道",
    "软件": "做强工业软件赛道",
    "游戏": "做强游戏娱乐赛道",
    "孪生": "做强数字孪生城市赛道",
    "消费": "共创“元消费”场景",
    "交通": "共创“元交通”场景",
}


def target(
    value: float, unit: str, metric: str = "产业规模", year: int = 2025, **kw: Any
) -> Target:
    return Target(
        text=kw.pop("text", f"到{year}年{metric}达到{value}{unit}。"),
        metric=metric,
        value=value,
        unit=unit,
        year=year,
        comparator=kw.pop("comparator", ">="),
        **kw,
    )


def task(
    key: str,
    number: str = "1.",
    units: list[str] | None = None,
    targets: list[Target] | None = None,
    section: str = "（一）开展重点赛道行动",
    title: str | None = None,
    body: str | None = None,
) -> Task:
    title = title or TITLES[key]
    return Task(
        id=f"{key}-{number}",
        number=number,
        path=["三、重点任务", section],
        title=title,
        text=f"{title}。{body or BODY[key]}（责任单位：{'、'.join(units or ['市经信局'])}）",
        units=[Unit(name=u) for u in (units or ["市经信局"])],
        targets=targets or [],
    )


def doc(tasks: list[Task], goals: list[Target] | None = None, **meta: Any) -> ParsedDocument:
    return ParsedDocument(
        title=meta.pop("title", "元宇宙产业发展行动方案"),
        doc_number=meta.pop("doc_number", "成办发〔2022〕1号"),
        kind="plan",
        tasks=tasks,
        goals=goals or [],
        **meta,
    )


def base_tasks() -> list[Task]:
    return [
        task("算力", "1.", ["市经信局市新经济委"], [target(1500, "亿元")]),
        task("软件", "2."),
        task("游戏", "3.", ["市经信局", "市文广旅局"]),
        task("孪生", "4.", ["市经信局", "市规划和自然资源局"]),
        task("消费", "5.", ["市商务局"]),
    ]


def kinds(changes: ChangeSet) -> list[tuple[str, str | None]]:
    return [(c.kind, c.task) for c in changes.changes]


def test_identical_documents_give_no_change() -> None:
    assert diff_documents(doc(base_tasks()), doc(base_tasks())).changes == []


def test_formatting_noise_gives_no_change_at_all() -> None:
    noisy = []
    for t in base_tasks():
        text = t.text.replace("，", ", ").replace("、", "，").replace("（", "(").replace("）", ")")
        text = text[:20] + "\n" + text[20:]  # re-wrapped line
        noisy.append(
            t.model_copy(
                update={
                    "text": " 　" + text,
                    "number": t.number.replace(".", "、") if t.number else None,
                    "title": t.title.replace("“", '"').replace("”", '"') + " ",
                    "path": ["三、 重点任务", "(一)开展重点赛道行动"],
                    "units": [Unit(name=" " + u.name.replace("（", "(")) for u in t.units],
                }
            )
        )
    old = doc(base_tasks(), title="元宇宙产业发展行动方案（2022—2025年）")
    new = doc(noisy, title="元宇宙产业发展行动方案(2022-2025年)", doc_number="成办发[2022]1号")
    assert diff_documents(old, new).changes == []


def test_target_value_change_is_one_goal_changed_alert() -> None:
    new_tasks = base_tasks()
    new_tasks[0] = task("算力", "1.", ["市经信局市新经济委"], [target(2000, "亿元")])
    changes = diff_documents(doc(base_tasks()), doc(new_tasks))
    assert kinds(changes) == [("goal_changed", "做强算力赛道")]
    change = changes.changes[0]
    assert change.severity == "alert"
    assert change.summary == "产业规模 1500亿元 → 2000亿元"
    assert change.before and change.before["value"] == 1500
    assert change.after and change.after["value"] == 2000 and change.after["unit"] == "亿元"
    assert change.number_before == change.number_after == "1."
    assert change.path_after == ["三、重点任务", "（一）开展重点赛道行动"]
    assert change.text == "到2025年产业规模达到2000亿元。"
    assert change.units == ["市经信局市新经济委"]


def test_year_change_is_summarized_as_years() -> None:
    new_tasks = base_tasks()
    new_tasks[0] = task("算力", "1.", ["市经信局市新经济委"], [target(1500, "亿元", year=2027)])
    changes = diff_documents(doc(base_tasks()), doc(new_tasks))
    assert [c.summary for c in changes.changes] == ["产业规模 2025年 → 2027年"]


def test_equal_values_after_unit_conversion_are_no_change() -> None:
    old = doc(base_tasks(), goals=[target(1.5, "万人", "人才"), target(0.2, "亿元", "投资")])
    new = doc(base_tasks(), goals=[target(15000, "人", "人才"), target(2000, "万元", "投资")])
    assert diff_documents(old, new).changes == []
    newer = doc(base_tasks(), goals=[target(16000, "人", "人才"), target(2000, "万元", "投资")])
    changes = diff_documents(old, newer)
    assert kinds(changes) == [("goal_changed", None)]
    assert changes.changes[0].summary == "人才 1.5万人 → 16000人"


def test_document_goals_pair_by_metric_not_by_value() -> None:
    """10家 -> 15家 next to an unchanged 100家 in the same sentence pairs 10 with 15."""
    sentence = "引进培育10家链主企业，培育100家细分赛道核心企业。"
    old_goals = [
        target(10, "家", "链主企业", text=sentence),
        target(100, "家", "细分赛道核心企业", text=sentence),
    ]
    new_sentence = sentence.replace("10家", "15家")
    new_goals = [
        target(15, "家", "链主企业", text=new_sentence),
        target(100, "家", "细分赛道核心企业", text=new_sentence),
    ]
    changes = diff_documents(doc(base_tasks(), old_goals), doc(base_tasks(), new_goals))
    assert len(changes.changes) == 1
    c = changes.changes[0]
    assert (c.kind, c.task, c.before["value"], c.after["value"]) == ("goal_changed", None, 10, 15)  # type: ignore[index]


def test_goal_added_and_removed_inside_a_task() -> None:
    new_tasks = base_tasks()
    new_tasks[0] = task("算力", "1.", ["市经信局市新经济委"], [target(30, "个", "算力中心")])
    changes = diff_documents(doc(base_tasks()), doc(new_tasks))
    assert sorted(kinds(changes)) == [
        ("goal_added", "做强算力赛道"),
        ("goal_removed", "做强算力赛道"),
    ]
    added = next(c for c in changes.changes if c.kind == "goal_added")
    assert added.after and added.after["unit"] == "个" and added.before is None


def test_added_and_removed_tasks_do_not_repeat_their_targets() -> None:
    new_tasks = [*base_tasks()[:4], task("交通", "5.", ["市交通运输局"], [target(10, "个")])]
    changes = diff_documents(doc(base_tasks()), doc(new_tasks))
    assert kinds(changes) == [
        ("task_removed", "共创“元消费”场景"),
        ("task_added", "共创“元交通”场景"),
    ]
    removed = changes.changes[0]
    assert removed.units == ["市商务局"] and removed.number_before == "5."
    assert removed.number_after is None


def test_units_compared_as_alias_resolved_sets_named_as_written() -> None:
    old_tasks = base_tasks()
    old_tasks[1] = task("软件", "2.", ["区发改委", "区经信委"])
    new_tasks = base_tasks()
    new_tasks[1] = task("软件", "2.", ["区经济和信息化委员会", "区发展和改革委员会"])
    assert diff_documents(doc(old_tasks), doc(new_tasks)).changes == []
    new_tasks[1] = task("软件", "2.", ["区发展改革委", "区大数据发展局"])
    changes = diff_documents(doc(old_tasks), doc(new_tasks))
    assert len(changes.changes) == 1
    c = changes.changes[0]
    assert (c.kind, c.severity, c.added, c.removed) == (
        "units_changed",
        "alert",
        ["区大数据发展局"],
        ["区经信委"],
    )
    assert c.text == "（责任单位：区发展改革委、区大数据发展局）"


def test_wording_edit_is_only_task_changed_info() -> None:
    new_tasks = base_tasks()
    new_tasks[2] = task(
        "游戏", "3.", ["市经信局", "市文广旅局"], body=BODY["游戏"] + "打造原创游戏品牌。"
    )
    changes = diff_documents(doc(base_tasks()), doc(new_tasks))
    assert kinds(changes) == [("task_changed", "做强游戏娱乐赛道")]
    assert changes.changes[0].severity == "info"
    assert "打造原创游戏品牌" in changes.changes[0].summary


def test_slightly_retitled_task_is_matched() -> None:
    new_tasks = base_tasks()
    new_tasks[3] = task(
        "孪生", "4.", ["市经信局", "市规划和自然资源局"], title="做强数字孪生城市产业赛道"
    )
    changes = diff_documents(doc(base_tasks()), doc(new_tasks))
    assert kinds(changes) == [("task_changed", "做强数字孪生城市产业赛道")]
    assert changes.changes[0].title_before == "做强数字孪生城市赛道"


def test_retitled_task_with_other_units_still_alerts_on_units() -> None:
    new_tasks = base_tasks()
    new_tasks[3] = task("孪生", "4.", ["市经信局"], title="建设数字孪生城市")
    changes = diff_documents(doc(base_tasks()), doc(new_tasks))
    assert [(c.kind, c.removed) for c in changes.alerts] == [
        ("units_changed", ["市规划和自然资源局"])
    ]


def test_renumbering_after_a_removal_is_one_info_line_and_no_alert_elsewhere() -> None:
    old = base_tasks()
    new = [old[0]] + [t.model_copy(update={"number": f"{i}."}) for i, t in enumerate(old[2:], 2)]
    changes = diff_documents(doc(old), doc(new))
    assert [c.kind for c in changes.alerts] == ["task_removed"]
    info = [c for c in changes.changes if c.severity == "info"]
    assert [(c.kind, c.task) for c in info] == [("task_moved", None)]
    assert info[0].summary.startswith("3项任务仅重新编号")


def test_swapped_tasks_give_one_task_moved() -> None:
    old = base_tasks()
    new = [old[0], old[2], old[1], old[3], old[4]]
    new = [t.model_copy(update={"number": f"{i}."}) for i, t in enumerate(new, 1)]
    changes = diff_documents(doc(old), doc(new))
    assert changes.alerts == []
    moved = [c for c in changes.changes if c.kind == "task_moved" and c.task]
    assert len(moved) == 1 and moved[0].task in ("做强工业软件赛道", "做强游戏娱乐赛道")


def test_task_moved_to_another_section() -> None:
    old = base_tasks()
    new = [*old[:4], task("消费", "5.", ["市商务局"], section="（二）开展场景行动")]
    changes = diff_documents(doc(old), doc(new))
    assert kinds(changes) == [("task_moved", "共创“元消费”场景")]
    assert "（二）开展场景行动" in changes.changes[0].summary


def test_renamed_section_is_not_a_move() -> None:
    old = base_tasks()
    new = [t.model_copy(update={"path": ["三、重点任务", "（一）重点赛道攻坚"]}) for t in old]
    assert diff_documents(doc(old), doc(new)).changes == []


def test_split_task_is_not_added() -> None:
    old = base_tasks()
    first, second = BODY["算力"].split("，", 1)
    new = [
        task("算力", "1.", ["市经信局市新经济委"], [target(1500, "亿元")], body=first + "。"),
        task("算力", "2.", ["市经信局市新经济委"], title="推进算力交易", body=second),
        *[t.model_copy(update={"number": f"{i}."}) for i, t in enumerate(old[1:], 3)],
    ]
    changes = diff_documents(doc(old), doc(new))
    assert changes.alerts == []
    changed = [c for c in changes.changes if c.kind == "task_changed"]
    assert len(changed) == 1 and "拆分" in changed[0].summary


def test_merged_tasks_are_not_removed_and_keep_units() -> None:
    old = base_tasks()
    merged = task(
        "算力",
        "1.",
        ["市经信局市新经济委", "市经信局"],
        [target(1500, "亿元")],
        body=BODY["算力"] + BODY["软件"],
    )
    new = [merged, *[t.model_copy(update={"number": f"{i}."}) for i, t in enumerate(old[2:], 2)]]
    changes = diff_documents(doc(old), doc(new))
    assert changes.alerts == []
    assert any(c.kind == "task_changed" and "合并" in c.summary for c in changes.changes)


def test_metadata_changes_one_per_field() -> None:
    old = doc(base_tasks(), date="2022-12-15", issuers=["成都市人民政府办公厅"])
    new = doc(
        base_tasks(),
        title="元宇宙产业发展行动方案（2025版）",
        doc_number="成办发〔2025〕3号",
        date="2025-01-10",
        issuers=["成都市人民政府办公厅"],
    )
    changes = diff_documents(old, new)
    assert [(c.kind, c.field, c.severity) for c in changes.changes] == [
        ("metadata_changed", "title", "info"),
        ("metadata_changed", "doc_number", "info"),
        ("metadata_changed", "date", "info"),
    ]
    assert changes.changes[2].value_before == "2022-12-15"


def test_order_is_document_goals_then_tasks_then_info() -> None:
    old_tasks = base_tasks()
    new_tasks = base_tasks()
    new_tasks[0] = task("算力", "1.", ["市经信局市新经济委"], [target(2000, "亿元")])
    new_tasks[2] = task("游戏", "3.", ["市经信局"], body=BODY["游戏"] + "加强版权保护。")
    old = doc(old_tasks, goals=[target(100, "个", "应用场景")])
    new = doc(new_tasks, goals=[target(150, "个", "应用场景")], date="2025-01-01")
    changes = diff_documents(old, new)
    assert kinds(changes) == [
        ("goal_changed", None),
        ("goal_changed", "做强算力赛道"),
        ("units_changed", "做强游戏娱乐赛道"),
        ("metadata_changed", None),
        ("task_changed", "做强游戏娱乐赛道"),
    ]


def test_contract_json_shape() -> None:
    new_tasks = base_tasks()
    new_tasks[0] = task("算力", "1.", ["市经信局市新经济委", "市数据局"], [target(2000, "亿元")])
    data = diff_documents(doc(base_tasks()), doc(new_tasks)).to_json_dict()
    assert data["schema"] == "radar.changes/1"
    goal, units = data["changes"]
    assert set(goal) >= {"kind", "severity", "task", "before", "after", "summary"}
    assert goal["before"] == {
        "text": "到2025年产业规模达到1500亿元。",
        "metric": "产业规模",
        "value": 1500,
        "value_max": None,
        "unit": "亿元",
        "year": 2025,
        "comparator": ">=",
    }
    assert units["added"] == ["市数据局"] and units["removed"] == []
    assert "before" not in units and "field" not in units
    assert ChangeSet.from_json_dict(data).changes[0] == Change.model_validate(data["changes"][0])


def test_document_goal_change_has_null_task_in_json() -> None:
    old = doc(base_tasks(), goals=[target(100, "个", "应用场景")])
    new = doc(base_tasks(), goals=[target(150, "个", "应用场景")])
    (change,) = diff_documents(old, new).to_json_dict()["changes"]
    assert change["task"] is None and change["kind"] == "goal_changed"


def test_one_body_with_two_plaques_written_as_two_units_is_no_change() -> None:
    old_tasks = base_tasks()
    new_tasks = base_tasks()
    new_tasks[0] = task("算力", "1.", ["市经信局", "市新经济委"], [target(1500, "亿元")])
    assert diff_documents(doc(old_tasks), doc(new_tasks)).changes == []


def test_document_units_of_a_reply_change_as_units_changed_with_task_null() -> None:
    """A reply's handling units (承办/会办) live at document level; adding or dropping one is an
    alert with no task."""
    old = doc(base_tasks(), units=[Unit(name="区住房城乡建委", role="lead")])
    new = doc(
        base_tasks(),
        units=[Unit(name="区住房城乡建委", role="lead"), Unit(name="区财政局", role="support")],
    )
    changes = diff_documents(old, new).changes
    assert [(c.kind, c.task, c.added, c.removed) for c in changes] == [
        ("units_changed", None, ["区财政局"], [])
    ]
    assert changes[0].severity == "alert"
    assert diff_documents(new, new).changes == []
