"""Regenerate ``docs/example-alert.html`` and ``docs/example-alert.txt``.

    .venv/bin/python -m tests.alerts.make_example

Seed 002 and its revision go through the real ingest path (parser, diff, storage, matching)
into a throwaway ``RADAR_HOME``; a subscriber without filters gets the alert, and its two
parts are written to ``docs/`` exactly as sent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="radar-example-"))
    os.environ.update(
        {
            "RADAR_HOME": str(home),
            "RADAR_DATABASE_URL": f"sqlite:///{home / 'radar.db'}",
            "RADAR_BASE_URL": "https://radar.example.org",
            "RADAR_SECRET": "example-secret",
            "RADAR_MAIL_FROM": "政策雷达 <radar@radar.example.org>",
        }
    )
    os.environ.pop("RADAR_SMTP_URL", None)
    from alerts.dispatch import send_due
    from storage.db import open_db
    from tests.alerts.conftest import body_html, body_text, read_outbox, seed_revision

    _, factory = open_db()
    seed_revision(factory, {"reader@example.org": {}}, issuer=None)
    report = send_due(factory)
    assert report.sent == 1, report
    [msg] = read_outbox(home)
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    headers = "".join(
        f"{name}: {msg[name]}\n"
        for name in (
            "Subject",
            "From",
            "To",
            "Message-ID",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
        )
    )
    (docs / "example-alert.txt").write_text(headers + "\n" + body_text(msg), encoding="utf-8")
    (docs / "example-alert.html").write_text(body_html(msg), encoding="utf-8")
    print(f"wrote {docs / 'example-alert.txt'} and {docs / 'example-alert.html'}: {msg['Subject']}")


if __name__ == "__main__":
    main()
