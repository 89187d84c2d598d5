"""Document identity: which series a new document is a version of.

Order of evidence (strongest first): an explicit ``--series KEY`` from the user; the same
source URL as a stored version; the same *canonical title* (the title with version markers
such as 征求意见稿/试行/（2025版） and the 关于印发…的通知 wrapper removed — offices re-issue
revised plans under a new 文号, so a new doc number does not make a new document) *from the
same issuer* (two districts' 2024年政务公开工作要点 are two series: the issuers' regions must
agree, or, when an issuer is unknown, the website);
otherwise a new series. A document that only cites another — a reply (复函/提案答复) quoting a
plan, an 增补和调整 notice for a plan — is *related* to that plan and never becomes a
version of it. The title rules are data (``storage/data/identity.toml``), so they can be
reviewed and extended without touching code. Every decision carries its reason text.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.schema import ParsedDocument
from parsers.units_alias import unit_key
from storage.hold import NOT_BASELINE
from storage.models import Series, Version

RULES_FILE = Path(__file__).with_name("data") / "identity.toml"


@dataclass(frozen=True)
class _Rules:
    unwrap: tuple[re.Pattern[str], ...]
    bracketed: tuple[re.Pattern[str], ...]
    words: re.Pattern[str]
    strip: dict[int, Any]
    adjust: tuple[re.Pattern[str], ...]
    citing_kinds: frozenset[str]


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    words = sorted(data["markers"]["words"], key=len, reverse=True)
    table: dict[int, Any] = {ord(c): None for c in data["strip"]["chars"]}
    table.update({ord(c): "-" for c in data["strip"]["dashes"]})
    return _Rules(
        unwrap=tuple(re.compile(p) for p in data["unwrap"]["patterns"]),
        bracketed=tuple(re.compile(p) for p in data["markers"]["bracketed"]),
        words=re.compile("|".join(re.escape(w) for w in words)),
        strip=table,
        adjust=tuple(re.compile(p) for p in data["citing"]["adjust_patterns"]),
        citing_kinds=frozenset(data["citing"]["kinds"]),
    )


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def canonical_title(title: str | None) -> str:
    """The title with version markers, wrappers, brackets and spaces removed.

    ``关于印发《成都市元宇宙产业发展行动计划（2022—2025年）（试行）》的通知`` and
    ``成都市元宇宙产业发展行动计划(2022-2025年)(2025版)`` both give
    ``成都市元宇宙产业发展行动计划2022-2025年``. Year ranges stay: a 2026-2028 plan is a
    different plan.
    """
    if not title:
        return ""
    rules = _rules()
    text = "".join(_nfkc(title).split())
    for pattern in rules.unwrap:
        m = pattern.match(text)
        if m:
            text = m.group(1)
            break
    for pattern in rules.bracketed:
        text = pattern.sub("", text)
    # Bracketed bare markers like (试行) / 【征求意见稿】 first, then markers written loose.
    text = re.sub(r"[(\[【〔]\s*(?:" + rules.words.pattern + r")\s*[)\]】〕]", "", text)
    text = rules.words.sub("", text)
    text = text.translate(rules.strip)
    return text


def adjusted_title(title: str | None) -> str | None:
    """For an adjustment notice (关于…增补和调整的通知), the title of the document it adjusts."""
    if not title:
        return None
    text = "".join(_nfkc(title).split())
    for pattern in _rules().adjust:
        m = pattern.match(text)
        if m and m.group(1):
            # The adjusted document is usually named in book-title marks; trust them first.
            quoted = re.search(r"《(.+?)》", text)
            return quoted.group(1) if quoted else m.group(1)
    return None


def is_citing_kind(kind: str | None) -> bool:
    """Kinds (replies) that only ever cite other documents."""
    return (kind or "") in _rules().citing_kinds


def derive_series_key(canonical: str, *, source_url: str | None, content_hash: str) -> str:
    """A deterministic key for a new series, so two workers creating the same series at
    once collide on ``series.key`` instead of making two series."""
    basis = canonical or source_url or content_hash
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class SeriesMatch:
    """Where a document belongs: ``series`` None means a new series (with ``key`` if given)."""

    series: Series | None
    reason: str
    related_to: Version | None = None
    canonical: str = ""
    citing: bool = False


def latest_version(session: Session, series_id: int) -> Version | None:
    """The series' current version: the highest ``seq`` that is not held or discarded (a
    broken page is never what the next version is compared with), or None."""
    return session.scalar(
        select(Version)
        .where(
            Version.series_id == series_id,
            Version.hold_status.is_(None) | Version.hold_status.not_in(NOT_BASELINE),
        )
        .order_by(Version.seq.desc())
        .limit(1)
    )


def newest_versions(session: Session, series_id: int) -> list[Version]:
    """The current version and every held/discarded one after it: what a fetch must differ
    from to be a new version (the WAF page served again is not another held version)."""
    current = latest_version(session, series_id)
    floor = current.seq if current is not None else 0
    return list(
        session.scalars(select(Version).where(Version.series_id == series_id, Version.seq >= floor))
    )


#: An administrative region at the start of an issuer: 重庆市永川区人民政府 -> 重庆市永川区,
#: 成都市人民政府办公厅 -> 成都市, 四川省发展和改革委员会 -> 四川省.
_REGION = re.compile(r"^(?:[^省市区县]{1,8}?(?:省|市|区|县|自治州))+")


def issuer_region(issuer: str | None) -> str:
    """The region an issuer belongs to (its unit key when it names none, e.g. 国务院)."""
    if not issuer:
        return ""
    name = "".join(_nfkc(issuer).split())
    m = _REGION.match(name)
    return m.group(0) if m else unit_key(name)


def _host(url: str | None) -> str:
    return (urlsplit(url).hostname or "").lower() if url else ""


def different_issuer(
    session: Session, series: Series, parsed: ParsedDocument, source_url: str | None
) -> str | None:
    """Why ``parsed`` cannot join ``series`` although the titles agree, or None.

    Two districts publish documents with the same title (2024年政务公开工作要点): the issuer's
    region must agree (重庆市永川区 = 永川区; 成都市 ≠ 成都市武侯区), and when either
    issuer is unknown, the website must (a URL on another host is another publisher).
    """
    mine = issuer_region(parsed.issuers[0] if parsed.issuers else None)
    theirs = issuer_region(series.issuer)
    if mine and theirs:
        if mine == theirs or mine.endswith(theirs) or theirs.endswith(mine):
            return None
        return f"issuer {parsed.issuers[0]} is not {series.issuer}"
    host = _host(source_url)
    if not host:
        return None
    hosts = {
        _host(u)
        for u in session.scalars(
            select(Version.source_url).where(
                Version.series_id == series.id, Version.source_url.is_not(None)
            )
        )
    }
    hosts.discard("")
    if hosts and host not in hosts:
        return f"published on {host}, not {', '.join(sorted(hosts))}"
    return None


def _compatible(series: Series, citing: bool) -> bool:
    """A citing document only joins citing series, and a plan never joins a reply's series."""
    return is_citing_kind(series.kind) == citing


def _find_related(session: Session, parsed: ParsedDocument, adjusted: str | None) -> Version | None:
    candidates: list[str] = []
    if adjusted:
        candidates.append(canonical_title(adjusted))
    candidates.extend(canonical_title(c) for c in parsed.cites)
    for canon in dict.fromkeys(c for c in candidates if c):
        for series in session.scalars(
            select(Series).where(Series.canonical_title == canon).order_by(Series.id)
        ):
            if is_citing_kind(series.kind):
                continue
            latest = latest_version(session, series.id)
            if latest is not None:
                return latest
    return None


def resolve_series(
    session: Session,
    parsed: ParsedDocument,
    *,
    source_url: str | None = None,
    series_key: str | None = None,
) -> SeriesMatch:
    """Decide the series of ``parsed`` (see the module docstring for the order of evidence)."""
    canon = canonical_title(parsed.title)
    adjusted = adjusted_title(parsed.title)
    related = _find_related(session, parsed, adjusted)
    # An adjustment notice counts as citing only when the document it adjusts is known:
    # "关于推进结构调整的通知" is an ordinary notice.
    citing = is_citing_kind(parsed.kind) or (related is not None and adjusted is not None)

    def match(series: Series | None, reason: str) -> SeriesMatch:
        # A notice citing its own plan's title is not "related" to an earlier version of itself.
        rel = (
            related if related is None or series is None or related.series_id != series.id else None
        )
        return SeriesMatch(series, reason, rel, canon, citing)

    if series_key:
        series = session.scalar(select(Series).where(Series.key == series_key))
        return match(series, "explicit series key")

    if source_url:
        for version in session.scalars(
            select(Version)
            .where(Version.source_url == source_url)
            .order_by(Version.id.desc())
            .limit(5)
        ):
            if _compatible(version.series, citing):
                return match(version.series, "same source URL")

    refused: list[str] = []
    if canon:
        for series in session.scalars(
            select(Series).where(Series.canonical_title == canon).order_by(Series.id)
        ):
            if not _compatible(series, citing):
                continue
            other = different_issuer(session, series, parsed, source_url)
            if other:
                refused.append(f"same title as series {series.key} but {other}")
                continue
            latest = latest_version(session, series.id)
            reason = f"same canonical title '{canon}'"
            if parsed.doc_number and latest is not None and latest.doc_number != parsed.doc_number:
                reason += f" (new doc number {parsed.doc_number})"
            return match(series, reason)

    return match(None, "new series" + (f" ({'; '.join(refused)})" if refused else ""))
