"""Prefect's environment for radar processes, set before ``prefect`` is first imported.

Prefect reads its settings when it is imported, so the defaults below must be in
``os.environ`` first. They keep Prefect's state beside radar's (``PREFECT_HOME`` under
``RADAR_HOME``) instead of in ``~/.prefect``, so a tmp ``RADAR_HOME`` (tests, ``radar demo``)
is self-contained, and let a process without ``PREFECT_API_URL`` run flows on Prefect's
ephemeral (temporary, in-process-started) server. Explicit settings always win.
"""

from __future__ import annotations

import os
from pathlib import Path


def ensure_prefect_env(*, quiet: bool = False) -> Path:
    """Fill Prefect defaults for this process; return ``PREFECT_HOME``.

    ``quiet`` lowers Prefect's console logging to warnings (``radar demo``/``poll`` print
    their own summary; the flow-run chatter would bury it).
    """
    from storage.settings import load_settings

    home = Path(os.environ.get("PREFECT_HOME") or load_settings().home / "prefect")
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
    # No internet on our servers: the telemetry call only adds a DNS timeout to startup.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect's ephemeral server would otherwise wait up to 20 s per shutdown for stragglers.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    return home


def has_api_server() -> bool:
    """True when flows report to a real Prefect server (``PREFECT_API_URL`` is set), so
    deployment triggers and schedules exist; False in ephemeral mode."""
    return bool(os.environ.get("PREFECT_API_URL"))
