"""Unit-name comparison keys: the same body under its names, different bodies kept apart."""

from __future__ import annotations

import tomllib
from itertools import combinations
from pathlib import Path

import pytest

from parsers.units_alias import document_place, load_aliases, unit_key, unit_keys

SAME = [
    ["区发改委", "区发展改革委", "区发展和改革委员会"],
    ["区经信委", "区经济信息委", "区经济和信息化委员会"],
    ["市经信局", "市经济和信息化局", "市经济信息化局"],
    ["区大数据局", "区大数据发展局", "区大数据应用发展管理局"],
    ["区教委", "区教育委员会"],
    ["区人力社保局", "区人力资源社会保障局", "区人力资源和社会保障局"],
    ["区金融办", "区金融工作办公室"],
    ["区科技局", "区科学技术局"],
    ["区商务委", "区商务委员会"],
    # the same groups hold at other levels and under a place name
    ["市发改委", "市发展和改革委员会"],
    ["永川区发改委", "永川区发展和改革委员会"],
    # width, spaces and brackets never matter
    ["各区（市）县", "各区(市)县", "各区 （市） 县", "各区〔市〕县"],
    ["ＡＢＣ公司", "ABC公司"],
]

DIFFERENT = [
    ("区发改委", "区经信委"),
    ("区经信委", "区经信局"),
    ("区科技局", "区科委"),
    ("区发改委", "市发改委"),
    ("区大数据局", "市数据局"),
    ("永和街道", "永街道"),
    ("区金融办", "区金融监管局"),
    # one body with two plaques in 成都 only: not generalized to other levels
    ("区经信局区新经济委", "区经信局"),
    # ... nor to other cities: there a move from one to the other is a real change
    ("市经信局", "市新经济委"),
    ("市经济和信息化局", "市新经济发展委员会"),
]

#: 成都: one body with two plaques (合署办公), written together or under either name alone.
SAME_IN_CHENGDU = [
    ["市经信局市新经济委", "市经信局（市新经济委）", "市经信局 市新经济委"],
    ["市经信局市新经济委", "市经信局", "市新经济委", "市经济和信息化局", "市新经济发展委员会"],
    ["市网络理政办", "市政务服务管理和网络理政办公室"],
]


@pytest.mark.parametrize("names", SAME_IN_CHENGDU, ids=lambda names: names[1])
def test_local_group_holds_in_its_place_only(names: list[str]) -> None:
    assert len({unit_key(n, "成都") for n in names}) == 1
    assert len({unit_key(n) for n in names}) > 1
    assert len({unit_key(n, "重庆") for n in names}) > 1


def test_a_local_unit_answers_to_every_name_of_its_body_there() -> None:
    assert set(unit_keys("市经信局", "成都")) >= {unit_key("市经信局"), unit_key("市新经济委")}
    assert unit_keys("市经信局", None) == (unit_key("市经信局"),)
    assert unit_keys("区发改委", "成都") == (unit_key("区发改委"),)


@pytest.mark.parametrize(
    ("issuers", "title", "doc_number", "text", "place"),
    [
        (["成都市人民政府办公厅"], "关于印发…的通知", None, "", "成都"),
        ([], "元宇宙产业发展行动方案", "成办发〔2022〕1号", "", "成都"),
        ([], "行动方案", None, "成都…成都…成都元宇宙", "成都"),  # seed 002's web copy
        (["重庆市永川区人民政府"], "行动方案", "永川府发〔2022〕22号", "成都" * 5, None),
        ([], "行动方案", None, "支持来成都设立总部", None),
    ],
)
def test_document_place(
    issuers: list[str], title: str, doc_number: str | None, text: str, place: str | None
) -> None:
    assert document_place(issuers, title, doc_number, text) == place


@pytest.mark.parametrize("names", SAME, ids=lambda names: names[0])
def test_names_of_one_body_share_a_key(names: list[str]) -> None:
    keys = {unit_key(n) for n in names}
    assert len(keys) == 1, {n: unit_key(n) for n in names}


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_bodies_keep_different_keys(a: str, b: str) -> None:
    assert unit_key(a) != unit_key(b)


def test_unlisted_name_is_only_normalized() -> None:
    assert unit_key(" 仙桃数据谷公司 ") == "仙桃数据谷公司"
    assert unit_key("和平街道") == "和平街道"


def test_load_aliases_maps_every_listed_name_to_its_group_key() -> None:
    aliases = load_aliases()
    assert aliases["区发展和改革委员会"] == aliases["区发改委"] == unit_key("区发改委")
    assert load_aliases() == aliases  # cached and stable


def test_alias_table_groups_never_merge_into_each_other() -> None:
    """Generic rules must not join two groups a reviewer listed separately."""
    path = Path(__file__).resolve().parents[2] / "parsers" / "data" / "unit_aliases.toml"
    groups = tomllib.loads(path.read_text(encoding="utf-8"))["same"]
    keys = [
        {unit_key(n, next(iter(g.get("places", [])), None)) for n in g["names"]} for g in groups
    ]
    for names, k in zip(groups, keys, strict=True):
        assert len(k) == 1, names
    for a, b in combinations(keys, 2):
        assert a != b


# -- scoping by region (the unit page's and unit subscriptions' identity) ---------------------

JIADING = "上海市嘉定区"


def test_document_scope_from_issuer_then_title() -> None:
    from parsers.units_alias import document_scope

    assert document_scope(["上海市嘉定区人民政府"]) == JIADING
    assert document_scope(["上海市浦东新区发展和改革委员会"]) == "上海市浦东新区"
    assert document_scope([], "重庆市永川区元宇宙产业发展三年行动计划") == "重庆市永川区"
    assert document_scope([], "长三角区域一体化发展方案") == ""  # 区域 is no district
    assert document_scope(["国务院办公厅"]) == ""


def test_relative_names_take_the_documents_region() -> None:
    from parsers.units_alias import scoped_unit_key, scoped_unit_name

    assert scoped_unit_key("区发改委", JIADING) == "嘉定区发改委"
    assert scoped_unit_key("区发展和改革委员会", JIADING) == "嘉定区发改委"
    assert scoped_unit_key("区发改委", "上海市浦东新区") == "浦东新区发改委"
    assert scoped_unit_key("市发改委", JIADING) == "上海市发改委"
    assert scoped_unit_name("区发展和改革委员会", JIADING) == "嘉定区发展和改革委员会"
    assert scoped_unit_key("镇政府", JIADING) == "镇政府"  # no 镇 in the region: as written
    assert scoped_unit_key("区发改委") == "区发改委"  # no region known: any district's


def test_fully_named_units_are_the_same_everywhere() -> None:
    from parsers.units_alias import scoped_unit_key

    for scope in ("", JIADING, "四川省成都市"):
        assert scoped_unit_key("上海市发展和改革委员会", scope) == "上海市发改委"
        assert scoped_unit_key("上海市嘉定区发展和改革委员会", scope) == "嘉定区发改委"
        assert scoped_unit_key("国家发展改革委", scope) == "国家发展改革委"
        # words that start with a level character are not relative names
        assert scoped_unit_key("市场监管局", scope) == "市场监管局"
        assert scoped_unit_key("城市管理局", scope) == "城市管理局"


def test_scoped_keys_keep_the_bare_key_for_relative_names() -> None:
    from parsers.units_alias import scoped_unit_keys

    assert scoped_unit_keys("区发改委", JIADING) == ("嘉定区发改委", "区发改委")
    assert scoped_unit_keys("嘉定区发改委", JIADING) == ("嘉定区发改委",)
