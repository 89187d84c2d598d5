"""``radar demo``: the whole pipeline offline, in about a minute.

A small government portal (``flows.site_fixture``: GBK listing over two pages, article pages
made from the seed documents) is served on 127.0.0.1; two demo subscribers are added (an
analyst watching 市数据局, another watching 市规划和自然资源局); the portal is polled, a
revised plan is published on it as a cover note with a PDF attachment, the portal is polled
again, and the detected changes and the alert emails (the outbox) are printed.

The demo works in ``RADAR_HOME/demo`` (recreated on every run) so it is repeatable and never
touches the data of a real installation in ``RADAR_HOME``. It needs no Prefect server: without
``PREFECT_API_URL`` the flows run in this process (``flows.orchestrate``), and the polls
deliver the alerts themselves.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEMO_SOURCE = "demo-portal"
#: (email, unit): the revision adds 市数据局 to one task and drops 市规划和自然资源局 from another.
DEMO_SUBSCRIBERS = (
    ("analyst@district.example", "市数据局"),
    ("planner@district.example", "市规划和自然资源局"),
)


@dataclass
class DemoResult:
    home: Path
    first_poll: list[dict[str, Any]]
    second_poll: list[dict[str, Any]]
    emails: list[Path] = field(default_factory=list)


def _prepare_env(home: Path) -> Path:
    """Point this process at a fresh demo home; Prefect keeps its state in the outer home."""
    from flows.orchestrate import use_local
    from flows.prefect_env import ensure_prefect_env, has_api_server

    ensure_prefect_env(quiet=True)  # PREFECT_HOME stays in the outer RADAR_HOME
    use_local(not has_api_server())
    demo_home = home / "demo"
    shutil.rmtree(demo_home, ignore_errors=True)
    demo_home.mkdir(parents=True)
    os.environ["RADAR_HOME"] = str(demo_home)
    os.environ.pop("RADAR_DATABASE_URL", None)
    # The portal is on 127.0.0.1: lift the private-address guard for this process only,
    # and skip the politeness delays meant for real government servers.
    os.environ["RADAR_ALLOW_PRIVATE_NETWORKS"] = "1"
    os.environ.setdefault("RADAR_FETCH_INTERVAL", "0")
    os.environ.setdefault("RADAR_FETCH_BACKOFF", "0.2")
    return demo_home


def run_demo(home: Path, echo: Callable[[str], None] = print) -> DemoResult:
    """Run the demo with ``home`` as the outer ``RADAR_HOME``; ``echo`` prints progress."""
    demo_home = _prepare_env(home)

    from flows.poll_flow import poll_sources
    from flows.site_fixture import FixtureSite, build_demo_site, publish_revision
    from storage.db import open_db, write_session

    _, factory = open_db()
    from alerts.subscriptions import subscribe

    with write_session(factory) as session:
        for email, unit in DEMO_SUBSCRIBERS:
            subscribe(session, email, unit=unit)
    echo(f"subscribers: {', '.join(f'{e} (unit {u})' for e, u in DEMO_SUBSCRIBERS)}")

    with FixtureSite() as site:
        info = build_demo_site(site)
        sources = demo_home / "sources.toml"
        sources.write_text(
            f'[[sources]]\nname = "{DEMO_SOURCE}"\nurl = "{info.listing_url}"\n'
            'schedule = "*/30 * * * *"\n',
            encoding="utf-8",
        )
        echo(f"demo portal: {info.listing_url}")
        echo("poll 1: the portal as first seen …")
        first = poll_sources(str(sources))
        _echo_poll(first, echo)
        publish_revision(site)
        echo("the portal publishes a revised plan (cover note + PDF attachment)")
        echo("poll 2: …")
        second = poll_sources(str(sources))
        _echo_poll(second, echo)
    outbox = demo_home / "outbox"
    emails = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
    result = DemoResult(demo_home, first, second, emails)
    _echo_emails(result, echo)
    return result


def _echo_poll(reports: list[dict[str, Any]], echo: Callable[[str], None]) -> None:
    for report in reports:
        if "error" in report:
            echo(f"  {report['source']}: FAILED {report['error']}")
            continue
        echo(
            f"  {report['source']}: {report['links']} links, {len(report['ingested'])} stored, "
            f"{report['unchanged']} unchanged, {len(report['failed'])} failed"
        )
        for item in report["ingested"]:
            echo(f"    {item['status']:<12} {item['title']} v{item['version']}")
            for change in item["changes"]:
                if change.get("severity") != "alert":
                    continue
                detail = change.get("summary") or _units(change)
                echo(
                    f"      ! {change.get('kind')}: {change.get('task') or '(document goals)'} {detail}"
                )
        dispatch = report.get("dispatch") or {}
        if dispatch.get("sent"):
            echo(f"  emails sent: {dispatch['sent']}")


def _units(change: dict[str, Any]) -> str:
    added = "、".join(change.get("added") or [])
    removed = "、".join(change.get("removed") or [])
    parts = ([f"+{added}"] if added else []) + ([f"-{removed}"] if removed else [])
    return " ".join(parts)


def _echo_emails(result: DemoResult, echo: Callable[[str], None]) -> None:
    from email import policy
    from email.parser import BytesParser

    from storage.settings import load_settings

    settings = load_settings()
    if settings.smtp_url:
        echo(f"alert emails went to the SMTP server {settings.smtp_url.split('@')[-1]}")
        return
    echo(f"alert emails ({len(result.emails)}) in {result.home / 'outbox'}:")
    for path in result.emails:
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle)
        echo(f"  {path.name}: to {message['To']} — {message['Subject']}")
    echo(f"inspect: RADAR_HOME={result.home} radar history <series>")
