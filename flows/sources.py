"""Which government sites to watch (``sources.toml``) and how to find documents on them.

A source is a listing page ("政策文件", "通知公告", a 政府信息公开 directory). Most Chinese
government portals run a handful of CMSs (TRS WCM above all) whose listings look alike: a
``ul`` of ``li`` items, each a link with the title and a date, surrounded by menus,
breadcrumbs, "更多" links and a ``createPageHTML(...)`` pager script. So the default needs no
configuration; ``link_selector``/``next_selector`` cover the sites that differ. What counts as
page furniture is data (``flows/data/listing_rules.toml``), not code.

This module is pure (HTML text in, links out) apart from :func:`crawl_listing`, which drives a
:class:`flows.fetch.Fetcher` over a source's listing pages.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from parsers.errors import RadarError

if TYPE_CHECKING:
    from flows.fetch import Fetcher, FetchResult

RULES_FILE = Path(__file__).parent / "data" / "listing_rules.toml"
DEFAULT_ATTACHMENTS = ("pdf", "doc", "docx", "wps", "ofd")

_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#LW-]+$")
_CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}

_FULL_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
)
_SHORT_DATE = re.compile(r"(?<![\d-])(\d{1,2})-(\d{1,2})(?![\d-])")
_URL_DATE = re.compile(r"(?:^|/)t?((?:19|20)\d{2})(\d{2})(\d{2})_")
_PAGE_NUMBER = re.compile(r"^[\[(（]?\d{1,4}[\])）]?$")
_PAGER_CALL = re.compile(r"createPageHTML\s*\(([^()]*)\)")


class SourcesError(RadarError):
    """sources.toml (or a SourceConfig) is invalid; the message names the file and entry."""


@cache
def _rules() -> dict[str, Any]:
    with RULES_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    return {
        "skip_tags": frozenset(raw["skip_tags"]),
        "skip_class_tokens": frozenset(t.lower() for t in raw["skip_class_tokens"]),
        "skip_class_parts": frozenset(t.lower() for t in raw["skip_class_parts"]),
        "skip_texts": frozenset(_squash(t) for t in raw["skip_texts"]),
        "next_texts": frozenset(_squash(t) for t in raw["next_texts"]),
        "skip_schemes": frozenset(raw["skip_schemes"]),
    }


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()


# -- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceConfig:
    """One watched listing page. Only ``name`` and ``url`` are required.

    ``allowed_domains`` defaults to the listing's host; a link is allowed when its host is a
    listed domain or a subdomain of one. ``encoding`` overrides the page's own declaration
    (pass it to :func:`flows.fetch.decode_html` as the declared charset).
    """

    name: str
    url: str
    link_selector: str | None = None
    next_selector: str | None = None
    max_pages: int = 3
    encoding: str | None = None
    schedule: str | None = None
    allowed_domains: tuple[str, ...] | None = None
    attachments: tuple[str, ...] = DEFAULT_ATTACHMENTS
    #: At most this many document links per poll; the rest is counted as overflow (a listing
    #: of 100k links must not queue 100k fetches).
    max_links: int = 200
    #: Seconds one poll of this source may take, every request included.
    poll_deadline: int = 1800

    def __post_init__(self) -> None:
        where = f"source {self.name!r}" if self.name else "source"
        if not isinstance(self.name, str) or not self.name.strip():
            raise SourcesError(f"{where}: 'name' must be a non-empty string")
        if not isinstance(self.url, str):
            raise SourcesError(f"{where}: 'url' must be a string")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourcesError(f"{where}: 'url' must be an http(s) URL, got {self.url!r}")
        if not isinstance(self.max_pages, int) or isinstance(self.max_pages, bool):
            raise SourcesError(f"{where}: 'max_pages' must be an integer")
        if not 1 <= self.max_pages <= 100:
            raise SourcesError(f"{where}: 'max_pages' must be between 1 and 100")
        for key, low, high in (("max_links", 1, 10000), ("poll_deadline", 10, 86400)):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise SourcesError(f"{where}: {key!r} must be an integer from {low} to {high}")
        for key in ("link_selector", "next_selector", "encoding", "schedule"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise SourcesError(f"{where}: {key!r} must be a non-empty string")
        for key in ("link_selector", "next_selector"):
            selector = getattr(self, key)
            if selector is not None:
                try:
                    BeautifulSoup("<p></p>", "lxml").select(selector)
                except Exception as exc:
                    raise SourcesError(
                        f"{where}: {key} {selector!r} is not valid CSS: {exc}"
                    ) from None
        if self.encoding is not None:
            from flows.fetch import normalize_charset

            if normalize_charset(self.encoding) is None:
                raise SourcesError(f"{where}: unknown encoding {self.encoding!r}")
        if self.schedule is not None and not _valid_cron(self.schedule):
            raise SourcesError(
                f"{where}: schedule {self.schedule!r} is not a cron expression "
                "(5 fields like '0 */6 * * *', or @hourly/@daily)"
            )
        domains = self.allowed_domains
        if domains is not None:
            if isinstance(domains, str) or not all(isinstance(d, str) and d for d in domains):
                raise SourcesError(f"{where}: 'allowed_domains' must be a list of host names")
            object.__setattr__(
                self, "allowed_domains", tuple(d.strip().lower().lstrip(".") for d in domains)
            )
        exts = self.attachments
        if isinstance(exts, str) or not all(isinstance(e, str) and e for e in exts):
            raise SourcesError(f"{where}: 'attachments' must be a list of file extensions")
        object.__setattr__(self, "attachments", tuple(e.strip().lower().lstrip(".") for e in exts))

    @property
    def domains(self) -> tuple[str, ...]:
        """The effective allowed domains (the listing's host when none are configured)."""
        if self.allowed_domains:
            return self.allowed_domains
        return ((urlsplit(self.url).hostname or "").lower(),)

    def allows(self, url: str) -> bool:
        """Whether ``url`` is http(s) on an allowed domain (or a subdomain of one)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            return False
        return any(host == d or host.endswith("." + d) for d in self.domains)


def _valid_cron(text: str) -> bool:
    text = text.strip()
    if text.lower() in _CRON_MACROS:
        return True
    parts = text.split()
    return len(parts) in (5, 6) and all(_CRON_FIELD.match(p) for p in parts)


_FIELD_NAMES = tuple(f.name for f in fields(SourceConfig))


def load_sources(path: Path) -> list[SourceConfig]:
    """Read ``[[sources]]`` from a TOML file; an optional ``[defaults]`` table fills gaps.

    Errors name the file and the entry (``sources.toml: [[sources]] #2 'chengdu': …``), and
    unknown keys are errors: a misspelt ``link_selecter`` silently ignored would cost an
    operator an afternoon.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SourcesError(f"{path}: no such sources file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: invalid TOML: {exc}") from None
    unknown_top = set(data) - {"sources", "defaults"}
    if unknown_top:
        raise SourcesError(
            f"{path}: unknown top-level key(s) {', '.join(sorted(unknown_top))} "
            "(expected [[sources]] and optionally [defaults])"
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise SourcesError(f"{path}: [defaults] must be a table")
    entries = data.get("sources", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SourcesError(f"{path}: 'sources' must be an array of tables ([[sources]])")
    _check_keys(path, "[defaults]", defaults)
    if "name" in defaults or "url" in defaults:
        raise SourcesError(f"{path}: [defaults] cannot set 'name' or 'url'")
    sources: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        label = f"[[sources]] #{number}" + (f" {entry['name']!r}" if "name" in entry else "")
        _check_keys(path, label, entry)
        merged = {**defaults, **entry}
        for key in ("name", "url"):
            if key not in merged:
                raise SourcesError(f"{path}: {label}: missing required key {key!r}")
        for key in ("allowed_domains", "attachments"):
            if isinstance(merged.get(key), list):
                merged[key] = tuple(merged[key])
        try:
            config = SourceConfig(**merged)
        except SourcesError as exc:
            raise SourcesError(f"{path}: {label}: {exc}") from None
        if config.name in seen:
            raise SourcesError(
                f"{path}: {label}: duplicate name {config.name!r} (also entry #{seen[config.name]})"
            )
        seen[config.name] = number
        sources.append(config)
    return sources


def _check_keys(path: Path, label: str, entry: dict[str, Any]) -> None:
    unknown = sorted(set(entry) - set(_FIELD_NAMES))
    if unknown:
        raise SourcesError(
            f"{path}: {label}: unknown key(s) {', '.join(unknown)} "
            f"(known: {', '.join(_FIELD_NAMES)})"
        )


# -- listing pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingItem:
    """A document link found on a listing page."""

    url: str  # absolute, fragment removed
    title: str
    date: str | None  # ISO yyyy-mm-dd when the listing (or the TRS URL) gives a year


def _classes(tag: Tag) -> list[str]:
    values: list[str] = []
    cls = tag.get("class")
    if isinstance(cls, str):
        values.extend(cls.split())
    elif cls:
        values.extend(str(c) for c in cls)
    ident = tag.get("id")
    if isinstance(ident, str) and ident:
        values.append(ident)
    return [v.lower() for v in values]


def _is_furniture(anchor: Tag, *, use_classes: bool) -> bool:
    rules = _rules()
    for node in [anchor, *anchor.parents]:
        if not isinstance(node, Tag) or node.name in ("body", "html", "[document]"):
            break
        if node.name in rules["skip_tags"]:
            return True
        if not use_classes:
            continue
        for value in _classes(node):
            if value in rules["skip_class_tokens"]:
                return True
            if any(part in rules["skip_class_parts"] for part in re.split(r"[-_]", value)):
                return True
    return False


def _container(anchor: Tag) -> Tag | None:
    """The list item / table row an anchor belongs to (where its date is written)."""
    node: Any = anchor.parent
    for _ in range(4):
        if not isinstance(node, Tag) or node.name in ("ul", "ol", "table", "tbody", "body"):
            break
        if node.name in ("li", "tr", "dd", "dt"):
            return node
        node = node.parent
    parent = anchor.parent
    if (
        isinstance(parent, Tag)
        and parent.name not in ("body", "html", "ul", "ol", "table", "tbody")
        and len(parent.find_all("a", href=True)) == 1
    ):
        return parent
    return None


def _link_url(anchor: Tag, base_url: str, config: SourceConfig) -> str | None:
    href = anchor.get("href")
    if not isinstance(href, str):
        return None
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    scheme = href.split(":", 1)[0].lower() if ":" in href else ""
    if scheme in _rules()["skip_schemes"]:
        return None
    url = urldefrag(urljoin(base_url, href))[0]
    return url if config.allows(url) else None


def _title(anchor: Tag) -> str:
    text = _clean(anchor.get_text(" "))
    attr = anchor.get("title")
    full = _clean(attr) if isinstance(attr, str) else ""
    if full and len(full) > len(text.rstrip("…. ")):
        return full
    return text or full


def _date_in(container: Tag | None, anchor: Tag, url: str) -> tuple[bool, str | None]:
    """(has a date at all, ISO date or None). Short ``[05-05]`` dates borrow the URL's year."""
    if container is None:
        return False, None
    text = " ".join(
        _clean(s)
        for s in container.find_all(string=True)
        if not any(node is anchor for node in s.parents)
    )
    match = _FULL_DATE.search(text)
    if match:
        return True, _iso(*match.groups())
    match = _SHORT_DATE.search(text)
    if match:
        month, day = match.groups()
        url_date = _URL_DATE.search(urlsplit(url).path)
        return True, _iso(url_date.group(1), month, day) if url_date else None
    return False, None


def _iso(year: str, month: str, day: str) -> str | None:
    y, m, d = int(year), int(month), int(day)
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _is_navigation_text(title: str) -> bool:
    squashed = _squash(title)
    return squashed in _rules()["skip_texts"] or bool(_PAGE_NUMBER.match(squashed))


def _dedupe(items: Iterable[ListingItem]) -> list[ListingItem]:
    seen: set[str] = set()
    out: list[ListingItem] = []
    for item in items:
        if item.url not in seen:
            seen.add(item.url)
            out.append(item)
    return out


def _select_anchors(soup: BeautifulSoup, selector: str) -> list[Tag]:
    anchors: list[Tag] = []
    for element in soup.select(selector):
        if element.name == "a" and element.get("href"):
            anchors.append(element)
        else:
            anchors.extend(a for a in element.find_all("a", href=True))
    return anchors


def parse_listing(
    html: str, base_url: str, config: SourceConfig
) -> tuple[list[ListingItem], str | None]:
    """The document links on a listing page and the next page's URL (or None).

    Default (no ``link_selector``): links inside a ``li``/``tr`` (or a one-link block) that
    carries a date, outside page furniture; navigation texts, javascript:/mailto: links and
    other domains are dropped. If a page has no dated links, the largest group of long-titled
    sibling links is taken instead (listings without dates exist).
    """
    soup = BeautifulSoup(html, "lxml")
    next_url = find_next_page(soup, html, base_url, config)
    own = urldefrag(base_url)[0]
    if config.link_selector:
        items = []
        for anchor in _select_anchors(soup, config.link_selector):
            url = _link_url(anchor, base_url, config)
            title = _title(anchor)
            if url is None or url == own or not title or _is_navigation_text(title):
                continue
            items.append(ListingItem(url, title, _date_in(_container(anchor), anchor, url)[1]))
        return _dedupe(items), next_url
    for use_classes in (True, False):
        items = _dated_items(soup, base_url, config, use_classes=use_classes)
        if items:
            return items, next_url
    return _undated_items(soup, base_url, config), next_url


def _candidates(
    soup: BeautifulSoup, base_url: str, config: SourceConfig, *, use_classes: bool
) -> list[tuple[Tag, str, str]]:
    own = urldefrag(base_url)[0]
    found = []
    for anchor in soup.find_all("a", href=True):
        url = _link_url(anchor, base_url, config)
        if url is None or url == own:
            continue
        title = _title(anchor)
        if not title or _is_navigation_text(title):
            continue
        if _is_furniture(anchor, use_classes=use_classes):
            continue
        found.append((anchor, url, title))
    return found


def _dated_items(
    soup: BeautifulSoup, base_url: str, config: SourceConfig, *, use_classes: bool
) -> list[ListingItem]:
    items = []
    for anchor, url, title in _candidates(soup, base_url, config, use_classes=use_classes):
        has_date, iso = _date_in(_container(anchor), anchor, url)
        if has_date:
            items.append(ListingItem(url, title, iso))
    return _dedupe(items)


def _undated_items(soup: BeautifulSoup, base_url: str, config: SourceConfig) -> list[ListingItem]:
    groups: dict[int, list[ListingItem]] = {}
    for anchor, url, title in _candidates(soup, base_url, config, use_classes=True):
        container = _container(anchor)
        if container is None or container.name not in ("li", "tr", "dd") or len(title) < 8:
            continue
        groups.setdefault(id(container.parent), []).append(ListingItem(url, title, None))
    best = max(groups.values(), key=len, default=[])
    return _dedupe(best) if len(best) >= 3 else []


# -- pagination ------------------------------------------------------------------------------


def find_next_page(
    soup: BeautifulSoup, html: str, base_url: str, config: SourceConfig
) -> str | None:
    """``next_selector``, else a 下一页-style link, else the TRS ``createPageHTML`` pager."""
    own = urldefrag(base_url)[0]

    def usable(anchor: Tag | None) -> str | None:
        if anchor is None:
            return None
        url = _link_url(anchor, base_url, config)
        return url if url and url != own else None

    if config.next_selector:
        element = soup.select_one(config.next_selector)
        if element is None:
            return None
        anchor = element if element.name == "a" else element.find("a", href=True)
        return usable(anchor if isinstance(anchor, Tag) else None)
    next_texts = _rules()["next_texts"]
    for anchor in soup.find_all("a", href=True):
        if _squash(anchor.get_text()) in next_texts:
            url = usable(anchor)
            if url:
                return url
    return _trs_next_page(html, base_url, config)


def _split_args(text: str) -> list[str]:
    return [a.strip() for a in re.findall(r"""(?:"[^"]*"|'[^']*'|[^,])+""", text)]


def _resolve_js(arg: str, html: str) -> int | str | None:
    if re.fullmatch(r"-?\d+", arg):
        return int(arg)
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
        return arg[1:-1]
    if re.fullmatch(r"[A-Za-z_$][\w$]*", arg):
        match = re.search(
            rf"""(?:var\s+|let\s+|const\s+|\b){re.escape(arg)}\s*=\s*("[^"]*"|'[^']*'|-?\d+)\s*;""",
            html,
        )
        if match:
            return _resolve_js(match.group(1), html)
    return None


def _trs_next_page(html: str, base_url: str, config: SourceConfig) -> str | None:
    """Next page from ``createPageHTML(count, current, "index", "html")`` (TRS WCM).

    TRS pages are ``index.html``, ``index_1.html`` … ``index_{count-1}.html``. Variants pass a
    div id and a record count around the same values, or pass variables; the page we are on
    is read from the URL when it matches (the script's own index is 0- or 1-based depending
    on the template), else from the script.
    """
    for match in _PAGER_CALL.finditer(html):
        values = [_resolve_js(a, html) for a in _split_args(match.group(1))]
        numbers = [v for v in values if isinstance(v, int)]
        strings = [v for v in values if isinstance(v, str)]
        if not numbers or len(strings) < 2 or None in values:
            continue
        count = numbers[0]
        prefix, suffix = strings[-2], strings[-1].lstrip(".")
        name = urlsplit(base_url).path.rsplit("/", 1)[-1]
        page_match = re.fullmatch(rf"{re.escape(prefix)}(?:_(\d+))?\.{re.escape(suffix)}", name)
        if page_match:
            current = int(page_match.group(1) or 0)
        elif name == "":
            current = 0
        else:
            current = numbers[1] if len(numbers) > 1 else 0
        if current + 1 >= count:
            return None
        url = urljoin(base_url, f"{prefix}_{current + 1}.{suffix}")
        return url if config.allows(url) else None
    return None


# -- attachments -----------------------------------------------------------------------------


def find_attachments(html: str, base_url: str, config: SourceConfig) -> list[tuple[str, str]]:
    """Attachment links on an article page: ``(absolute url, link text)``, in page order.

    A link counts when its path or its text ends in one of ``config.attachments``
    (download servlets hide the extension in the URL but not in the text); embedded viewers
    (``iframe``/``embed``/``object``) count too.
    """
    soup = BeautifulSoup(html, "lxml")
    exts = tuple("." + e for e in config.attachments)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(raw: str | None, text: str) -> None:
        if not raw:
            return
        url = urldefrag(urljoin(base_url, raw.strip()))[0]
        path = urlsplit(url).path.lower()
        if not config.allows(url):
            return
        if not (path.endswith(exts) or _clean(text).lower().endswith(exts)):
            return
        if url not in seen:
            seen.add(url)
            found.append((url, _clean(text) or path.rsplit("/", 1)[-1]))

    for anchor in soup.find_all("a", href=True):
        href = anchor.get("href")
        if not isinstance(href, str) or href.strip().lower().startswith(("javascript:", "mailto:")):
            continue
        title = anchor.get("title")
        text = _clean(anchor.get_text(" ")) or (title if isinstance(title, str) else "")
        add(href, text)
    for tag, attr in (("iframe", "src"), ("embed", "src"), ("object", "data")):
        for element in soup.find_all(tag):
            value = element.get(attr)
            if isinstance(value, str):
                add(value, urlsplit(value).path.rsplit("/", 1)[-1])
    return found


# -- crawling a source -----------------------------------------------------------------------


@dataclass
class ListingCrawl:
    """What one poll of a source's listing found."""

    items: list[ListingItem] = field(default_factory=list)
    pages: list[FetchResult] = field(default_factory=list)  # fetched listing pages, in order
    not_modified: bool = False  # the first page was unchanged: nothing new on this source
    #: Links found beyond ``max_links`` (not queued this poll; the report records them).
    overflow: int = 0
    #: A listing page longer than ``LISTING_MAX_CHARS`` was read only that far.
    truncated: bool = False


#: Characters of one listing page that are parsed. A real listing is 20-100 KB; a page of
#: 100k links (issue 12: 918 MB of parse tree and queue) is read only this far, which bounds
#: memory whatever the page holds.
LISTING_MAX_CHARS = 512 * 1024


def _cap(
    items: list[ListingItem], limit: int, known: Callable[[str], bool] | None
) -> tuple[list[ListingItem], int]:
    """At most ``limit`` items, links never fetched before first; (kept, overflow).

    Without the ``known`` preference a listing longer than the cap would offer the same
    first ``limit`` links on every poll, so the rest were never fetched and the listing,
    never complete, was re-crawled for ever. With it each poll takes the next unseen links,
    and only unseen links left out count as overflow: once every link has been seen, the
    listing is complete and is remembered like any other. Kept items stay in listing order.
    """
    if len(items) <= limit:
        return items, 0
    if known is None:
        return items[:limit], len(items) - limit
    fresh = [i for i, item in enumerate(items) if not known(item.url)]
    fresh_set = set(fresh)
    seen = [i for i in range(len(items)) if i not in fresh_set]
    chosen = set(fresh[:limit]) | set(seen[: max(0, limit - len(fresh))])
    return [item for i, item in enumerate(items) if i in chosen], max(0, len(fresh) - limit)


def crawl_listing(
    fetcher: Fetcher,
    config: SourceConfig,
    *,
    conditional: bool = True,
    remember: bool = True,
    known: Callable[[str], bool] | None = None,
) -> ListingCrawl:
    """Fetch up to ``max_pages`` listing pages of ``config`` and collect their items.

    If the first page is unchanged (304 or same hash) the source has nothing new and the
    crawl stops there (``not_modified=True``). Later pages are fetched unconditionally:
    when page 1 changes, items shift onto them. With ``remember=False`` no validators are
    stored; call ``fetcher.remember(page)`` for each of ``pages`` once the items are handled.
    ``known(url)`` says a link was fetched before; past ``max_links`` unseen links go first.
    """
    from flows.fetch import NotModified, decode_html

    crawl = ListingCrawl()
    url: str | None = config.url
    visited: set[str] = set()
    for number in range(config.max_pages):
        if url is None or url in visited:
            break
        visited.add(url)
        try:
            result = fetcher.get(url, conditional=conditional and number == 0, remember=remember)
        except NotModified:
            crawl.not_modified = True
            break
        crawl.pages.append(result)
        html = decode_html(result.content, config.encoding or result.charset)
        if len(html) > LISTING_MAX_CHARS:
            html, crawl.truncated = html[:LISTING_MAX_CHARS], True
        items, url = parse_listing(html, result.url, config)
        crawl.items = _dedupe([*crawl.items, *items])
        if len(crawl.items) > config.max_links:
            crawl.items, crawl.overflow = _cap(crawl.items, config.max_links, known)
            break  # later pages would only add more overflow
    return crawl
