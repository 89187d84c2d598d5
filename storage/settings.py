"""Runtime settings from the environment (``RADAR_*``), one frozen object.

They live in ``storage`` because it is the lowest layer that needs them (the database URL,
the data directory); ``alerts`` and ``flows`` import them from here. Prefect's own settings
stay Prefect's (``PREFECT_API_URL`` …). A ``RADAR_HOME/.env`` file, if present, fills
variables the environment does not set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    smtp_url: str | None
    mail_from: str
    base_url: str
    secret: str
    admin_email: str | None
    allow_private_networks: bool
    #: Fetch politeness per host (``RADAR_FETCH_INTERVAL`` s between requests,
    #: ``RADAR_FETCH_RETRIES``, ``RADAR_FETCH_BACKOFF`` s) and the read timeout
    #: (``RADAR_FETCH_TIMEOUT`` s); tests and the demo lower them for a site on 127.0.0.1.
    fetch_interval: float = 1.0
    fetch_retries: int = 3
    fetch_backoff: float = 0.5
    fetch_timeout: float = 30.0
    #: Proxies whose ``X-Forwarded-For`` the web app believes (``RADAR_TRUSTED_PROXIES``,
    #: comma-separated IPs/CIDRs; none by default: the peer address counts).
    trusted_proxies: tuple[str, ...] = ()

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def inbox_dir(self) -> Path:
        return self.home / "inbox"

    @property
    def sources_file(self) -> Path:
        return self.home / "sources.toml"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings now (not at import time), so tests can point ``RADAR_HOME`` anywhere."""
    environ = dict(os.environ if env is None else env)
    home = Path(environ.get("RADAR_HOME") or Path.home() / ".radar").expanduser()
    merged = {**_read_dotenv(home / ".env"), **environ}
    database_url = merged.get("RADAR_DATABASE_URL") or f"sqlite:///{home / 'radar.db'}"
    return Settings(
        home=home,
        database_url=database_url,
        smtp_url=merged.get("RADAR_SMTP_URL") or None,
        mail_from=merged.get("RADAR_MAIL_FROM") or "policy-radar <radar@localhost>",
        base_url=(merged.get("RADAR_BASE_URL") or "http://127.0.0.1:8765").rstrip("/"),
        secret=merged.get("RADAR_SECRET") or "dev-secret-change-me",
        admin_email=merged.get("RADAR_ADMIN_EMAIL") or None,
        allow_private_networks=merged.get("RADAR_ALLOW_PRIVATE_NETWORKS", "")
        in {"1", "true", "yes"},
        fetch_interval=float(merged.get("RADAR_FETCH_INTERVAL") or 1.0),
        fetch_retries=int(merged.get("RADAR_FETCH_RETRIES") or 3),
        fetch_backoff=float(merged.get("RADAR_FETCH_BACKOFF") or 0.5),
        fetch_timeout=float(merged.get("RADAR_FETCH_TIMEOUT") or 30.0),
        trusted_proxies=tuple(
            p.strip() for p in (merged.get("RADAR_TRUSTED_PROXIES") or "").split(",") if p.strip()
        ),
    )
