"""``radar held list|release|discard``: the operator's decision on versions that look broken.

A version ``storage.hold`` found suspicious (a challenge page, a sharp drop in tasks, another
document kind) is stored but held from subscribers. ``release`` makes it the current version
and queues its alerts; ``discard`` keeps it for the record only.
"""

from __future__ import annotations

import json
import sys

import typer


def register(app: typer.Typer) -> None:
    held_app = typer.Typer(help="Versions held from subscribers because they look broken.")
    app.add_typer(held_app, name="held")

    @held_app.command("list")
    def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
        """Held versions: id, series, seq, URL and why they are held."""
        from storage.db import open_db
        from storage.hold import held_versions

        _, factory = open_db()
        with factory() as session:
            rows = [
                {
                    "version_id": v.id,
                    "series_key": v.series.key,
                    "seq": v.seq,
                    "title": v.title,
                    "source_url": v.source_url,
                    "reason": v.hold_reason,
                }
                for v in held_versions(session)
            ]
        if as_json:
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
            return
        if not rows:
            sys.stdout.write("no held versions\n")
        for r in rows:
            sys.stdout.write(
                f"{r['version_id']}\t{r['series_key']} v{r['seq']}\t{r['reason']}\t"
                f"{r['source_url'] or ''}\n"
            )

    @held_app.command("release")
    def release_cmd(version_id: int = typer.Argument(..., help="The held version's id.")) -> None:
        """Release a held version: subscribers get its alerts (send with `radar alerts send`)."""
        from alerts.matching import queue_for_change_set
        from storage.db import open_db, write_session
        from storage.hold import release

        _, factory = open_db()
        with write_session(factory) as session:
            change_set_id = release(session, version_id)
            queued = queue_for_change_set(session, change_set_id)
        sys.stdout.write(f"released version {version_id}: {queued} alert(s) queued\n")

    @held_app.command("discard")
    def discard_cmd(version_id: int = typer.Argument(..., help="The held version's id.")) -> None:
        """Discard a held version: no alerts, never compared with again."""
        from storage.db import open_db, write_session
        from storage.hold import discard

        _, factory = open_db()
        with write_session(factory) as session:
            discard(session, version_id)
        sys.stdout.write(f"discarded version {version_id}\n")
