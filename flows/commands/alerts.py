"""``radar subscribe / unsubscribe / subscriptions``, ``radar alerts send|status|retry``,
``radar web``.

Thin wrappers over :mod:`alerts`: the operator's command line is trusted, so a subscription
made here is active at once (no confirmation email). SQLAlchemy, FastAPI and uvicorn are
imported inside the command bodies so ``radar parse`` stays light.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

_KINDS_HELP = (
    "Change kinds, comma-separated: goals, units, tasks, info, or exact kinds "
    "(goal_changed, units_changed, task_added …). Default: all."
)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _sub_dict(sub: Any) -> dict[str, Any]:
    return {
        "id": sub.id,
        "email": sub.email,
        "series_key": sub.series_key,
        "issuer": sub.issuer,
        "unit": sub.unit,
        "keyword": sub.keyword,
        "kinds": sub.kinds,
        "mode": sub.mode,
        "webhook_url": sub.webhook_url,
        "status": sub.status,
        "origin": sub.origin,
    }


#: ``radar alerts send`` exit code when the relay or configuration refuses every message.
EXIT_OPERATOR = 3


def _exit_on_operator_error(reason: str | None) -> None:
    """Exit non-zero when delivery needs the operator (cron and systemd then notice)."""
    if reason:
        sys.stderr.write(f"radar: alert delivery needs the operator: {reason}\n")
        raise typer.Exit(EXIT_OPERATOR)


def register(app: typer.Typer) -> None:
    @app.command("subscribe")
    def subscribe_cmd(
        email: str = typer.Argument(..., help="The address to send alerts to."),
        series: str | None = typer.Option(None, "--series", help="Only this document series key."),
        issuer: str | None = typer.Option(
            None, "--issuer", help="Issuer or region substring (渝北区, 成都市)."
        ),
        unit: str | None = typer.Option(
            None, "--unit", help="Responsible unit (aliases match: 区发改委 = 区发展改革委)."
        ),
        keyword: str | None = typer.Option(None, "--keyword", help="Word in title or task text."),
        kinds: list[str] | None = typer.Option(None, "--kinds", help=_KINDS_HELP),
        digest: str | None = typer.Option(
            None, "--digest", help="'daily' for one digest email a day instead of instant alerts."
        ),
        webhook: str | None = typer.Option(
            None, "--webhook", help="POST alerts as JSON (radar.alert/1) to this URL, not email."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the subscription as JSON."),
    ) -> None:
        """Subscribe EMAIL to alerts (active at once: the operator needs no confirmation)."""
        from alerts.errors import InvalidFilter
        from alerts.subscriptions import describe, subscribe
        from storage.db import open_db, write_session

        if digest not in (None, "daily", "instant"):
            raise InvalidFilter(f"--digest {digest!r}: use 'daily'")
        _, factory = open_db()
        with write_session(factory) as session:
            sub = subscribe(
                session,
                email,
                series_key=series,
                issuer=issuer,
                unit=unit,
                keyword=keyword,
                kinds=kinds,
                mode="daily" if digest == "daily" else "instant",
                origin="cli",
                webhook_url=webhook,
            )
            data, text = _sub_dict(sub), describe(sub)
        if as_json:
            _print_json(data)
        else:
            sys.stdout.write(f"subscription {data['id']}: {data['email']} — {text}\n")

    @app.command("unsubscribe")
    def unsubscribe_cmd(
        email: str = typer.Argument(..., help="The subscribed address."),
        sub_id: int | None = typer.Option(None, "--id", help="Only this subscription id."),
    ) -> None:
        """Unsubscribe EMAIL (all its subscriptions, or the one given by --id)."""
        from alerts.errors import SubscriptionNotFound
        from alerts.subscriptions import unsubscribe
        from storage.db import open_db, write_session

        _, factory = open_db()
        with write_session(factory) as session:
            count = unsubscribe(session, email, subscription_id=sub_id)
        if count == 0:
            which = f" with id {sub_id}" if sub_id is not None else ""
            raise SubscriptionNotFound(f"{email}: no active subscription{which}")
        sys.stdout.write(f"unsubscribed {count} subscription(s) of {email}\n")

    @app.command("subscriptions")
    def subscriptions_cmd(
        email: str | None = typer.Option(None, "--email", help="Only this address."),
        show_all: bool = typer.Option(False, "--all", help="Include unsubscribed ones."),
        as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    ) -> None:
        """List subscriptions (active and pending)."""
        from alerts.subscriptions import describe, list_subscriptions
        from storage.db import open_db

        _, factory = open_db()
        with factory() as session:
            subs = list_subscriptions(session, email=email, include_inactive=show_all)
            rows = [(_sub_dict(s), describe(s)) for s in subs]
        if as_json:
            _print_json([r for r, _ in rows])
            return
        if not rows:
            sys.stdout.write("no subscriptions\n")
            return
        from rich.console import Console
        from rich.table import Table

        table = Table()
        for col in ("id", "email", "status", "filters"):
            table.add_column(col, overflow="fold")
        for data, text in rows:
            table.add_row(str(data["id"]), data["email"], data["status"], text)
        Console().print(table)

    alerts_app = typer.Typer(help="Deliver and inspect alert emails.", no_args_is_help=True)
    app.add_typer(alerts_app, name="alerts")

    @alerts_app.command("send")
    def send_cmd(
        limit: int = typer.Option(500, "--limit", help="At most this many emails this run."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Deliver what is due (instant alerts, digests due, retries) via SMTP or the outbox."""
        from alerts.dispatch import send_due
        from storage.db import open_db
        from storage.settings import load_settings

        settings = load_settings()
        _, factory = open_db()
        report = send_due(factory, limit=limit)
        if as_json:
            _print_json(report.as_dict())
            _exit_on_operator_error(report.operator_error)
            return
        where = "SMTP" if settings.smtp_url else f"outbox {settings.outbox_dir}"
        sys.stdout.write(
            f"sent {report.sent}, retrying {report.retrying}, dead {report.dead}"
            f" (digests built {report.digests_built}) via {where}\n"
        )
        for line in report.errors:
            sys.stderr.write(f"  {line}\n")
        _exit_on_operator_error(report.operator_error)

    @alerts_app.command("retry")
    def retry_cmd(
        dead: bool = typer.Option(
            False, "--dead", help="Re-queue dead deliveries (after fixing their cause)."
        ),
        ids: list[int] | None = typer.Option(None, "--id", help="Only these delivery ids."),
    ) -> None:
        """Make waiting and retrying deliveries due now (or, with --dead, re-queue dead ones);
        the next `radar alerts send` delivers them."""
        from alerts.dispatch import requeue
        from storage.db import open_db

        _, factory = open_db()
        count = requeue(factory, dead=dead, ids=ids or None)
        which = "dead" if dead else "waiting/retrying"
        sys.stdout.write(f"re-queued {count} {which} deliveries\n")

    @alerts_app.command("status")
    def status_cmd(
        as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    ) -> None:
        """Deliveries per status: queued, sending, sent, retrying, dead, digest_pending."""
        from alerts.dispatch import status_counts
        from storage.db import open_db

        _, factory = open_db()
        with factory() as session:
            counts = status_counts(session)
        if as_json:
            _print_json(counts)
            return
        for key, value in counts.items():
            sys.stdout.write(f"{key:15} {value}\n")

    @app.command("web")
    def web_cmd(
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
        port: int = typer.Option(8765, "--port", help="Port to listen on."),
    ) -> None:
        """Serve the web app: documents, compare, units, targets, sources, feeds, subscriptions."""
        import uvicorn

        from alerts.web import create_app
        from flows.web_operator import operator_for

        app = create_app(operator_hooks=operator_for(None, can_poll=False))
        # proxy_headers off: X-Forwarded-For is believed only from RADAR_TRUSTED_PROXIES.
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
