"""Prefect's environment for radar processes, set before ``prefect`` is first imported.

Prefect reads its settings when it is imported, so the defaults below must be in
``os.environ`` first. They keep Prefect's state beside radar's (``PREFECT_HOME`` under
``RADAR_HOME``, created here: a fresh machine has neither) instead of in ``~/.prefect``, so a
tmp ``RADAR_HOME`` (tests, ``radar demo``) is self-contained. Explicit settings always win.

Which Prefect API a one-shot command reports to (:func:`attach_api`): ``PREFECT_API_URL``
when set, else the server of a ``radar serve`` running for this ``RADAR_HOME`` (found through
``RADAR_HOME/serve.json``), else none — and then the CLI runs the same flow code without
Prefect (``flows.orchestrate``) rather than pay 10–40 s for a temporary server per call.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def ensure_prefect_env(*, quiet: bool = False) -> Path:
    """Fill Prefect defaults for this process; return ``PREFECT_HOME`` (created).

    ``quiet`` lowers Prefect's console logging to warnings (``radar demo``/``poll`` print
    their own summary; the flow-run chatter would bury it).
    """
    from storage.settings import SettingsError, ensure_home, load_settings

    if os.environ.get("PREFECT_HOME"):
        home = Path(os.environ["PREFECT_HOME"]).expanduser()
    else:
        home = ensure_home(load_settings()) / "prefect"
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"PREFECT_HOME={home}: cannot create it ({exc.strerror})") from None
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
    deployment triggers and schedules exist; False in ephemeral or local mode."""
    return bool(os.environ.get("PREFECT_API_URL"))


def read_serve_file(path: Path) -> dict[str, object] | None:
    """What a running ``radar serve`` recorded (pid, URLs), or None when it is not running
    (no file, unreadable, or its process is gone)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return info if isinstance(info, dict) else None


def api_is_up(api_url: str, timeout: float = 1.0) -> bool:
    import urllib.request  # only when a serve file names an API (~8 ms for every ingest)

    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def attach_api() -> str | None:
    """The Prefect API this process reports to: ``PREFECT_API_URL``, else a running
    ``radar serve``'s (put into the environment), else None."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from storage.settings import load_settings

    info = read_serve_file(load_settings().serve_file)
    api = str(info.get("api_url") or "") if info else ""
    if api and api_is_up(api):
        os.environ["PREFECT_API_URL"] = api
        return api
    return None
