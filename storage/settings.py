"""Runtime settings from the environment (``RADAR_*``), one frozen object.

They live in ``storage`` because it is the lowest layer that needs them (the database URL,
the data directory); ``alerts`` and ``flows`` import them from here. Prefect's own settings
stay Prefect's (``PREFECT_API_URL`` …). A ``RADAR_HOME/.env`` file, if present, fills
variables the environment does not set.

pydantic-settings does the reading and type checks (it comes with Prefect), so a bad value
(``RADAR_FETCH_INTERVAL=abc``) is one :class:`SettingsError` line naming the variable, raised
before any command starts work.

The token secret: ``RADAR_SECRET`` when set, else a random one generated once into
``RADAR_HOME/secret`` (mode 0600). There is no shared default: a default known from the
source code would let anyone forge confirm links.
"""

from __future__ import annotations

import logging
import os
import secrets as _random
import sys
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from storage.errors import StorageError

log = logging.getLogger("radar.settings")

#: The default of the releases before the secret was generated. Refused if configured:
#: it is public, so tokens signed with it prove nothing.
OLD_DEFAULT_SECRET = "dev-secret-change-me"
SECRET_FILE = "secret"


class SettingsError(StorageError):
    """A ``RADAR_*`` setting is malformed, or ``RADAR_HOME`` cannot be created."""


class Settings(BaseSettings):
    """The ``RADAR_*`` settings (see the README's table for each one)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=True)

    home: Path = Field(
        default_factory=lambda: Path.home() / ".radar",
        validation_alias=AliasChoices("RADAR_HOME"),
    )
    database_url_env: str | None = Field(None, validation_alias=AliasChoices("RADAR_DATABASE_URL"))
    smtp_url: str | None = Field(None, validation_alias=AliasChoices("RADAR_SMTP_URL"))
    mail_from: str = Field(
        "policy-radar <radar@localhost>", validation_alias=AliasChoices("RADAR_MAIL_FROM")
    )
    base_url: str = Field("http://127.0.0.1:8765", validation_alias=AliasChoices("RADAR_BASE_URL"))
    secret_env: str | None = Field(None, validation_alias=AliasChoices("RADAR_SECRET"))
    admin_email: str | None = Field(None, validation_alias=AliasChoices("RADAR_ADMIN_EMAIL"))
    allow_private_networks: bool = Field(
        False, validation_alias=AliasChoices("RADAR_ALLOW_PRIVATE_NETWORKS")
    )
    #: Fetch politeness per host (``RADAR_FETCH_INTERVAL`` s between requests,
    #: ``RADAR_FETCH_RETRIES``, ``RADAR_FETCH_BACKOFF`` s) and the read timeout
    #: (``RADAR_FETCH_TIMEOUT`` s); tests and the demo lower them for a site on 127.0.0.1.
    fetch_interval: float = Field(1.0, ge=0, validation_alias=AliasChoices("RADAR_FETCH_INTERVAL"))
    fetch_retries: int = Field(3, ge=0, validation_alias=AliasChoices("RADAR_FETCH_RETRIES"))
    fetch_backoff: float = Field(0.5, ge=0, validation_alias=AliasChoices("RADAR_FETCH_BACKOFF"))
    fetch_timeout: float = Field(30.0, gt=0, validation_alias=AliasChoices("RADAR_FETCH_TIMEOUT"))
    #: ``radar serve``'s fixed ports: the Prefect server (API and UI) and the web pages
    #: (default: the port of ``RADAR_BASE_URL``).
    prefect_port: int = Field(
        4200, ge=1, le=65535, validation_alias=AliasChoices("RADAR_PREFECT_PORT")
    )
    web_port: int | None = Field(
        None, ge=1, le=65535, validation_alias=AliasChoices("RADAR_WEB_PORT")
    )
    #: Proxies whose ``X-Forwarded-For`` the web app believes (comma-separated IPs/CIDRs;
    #: none by default: the peer address is what per-IP sign-up limits count).
    trusted_proxies_env: str = Field("", validation_alias=AliasChoices("RADAR_TRUSTED_PROXIES"))

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info: Any) -> Any:
        """An empty variable (``RADAR_SMTP_URL=``) means "not set", as in the shell."""
        if isinstance(value, str) and not value.strip():
            default = cls.model_fields[info.field_name].get_default(call_default_factory=True)
            return default
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("secret_env")
    @classmethod
    def _not_the_old_default(cls, value: str | None) -> str | None:
        if value == OLD_DEFAULT_SECRET:
            raise ValueError(
                "is the old public default; unset it (a secret is generated into "
                "RADAR_HOME/secret) or set your own"
            )
        return value

    @property
    def trusted_proxies(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.trusted_proxies_env.split(",") if p.strip())

    @property
    def database_url(self) -> str:
        return self.database_url_env or f"sqlite:///{self.home / 'radar.db'}"

    @cached_property
    def secret(self) -> str:
        """``RADAR_SECRET``, else the generated ``RADAR_HOME/secret`` (created on first use)."""
        return self.secret_env or home_secret(self.home)

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

    @property
    def serve_file(self) -> Path:
        """Where a running ``radar serve`` records its process id and URLs."""
        return self.home / "serve.json"


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = error["loc"][0] if error["loc"] else "settings"
    field = Settings.model_fields.get(str(where))
    name = str(where)
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        name = str(field.validation_alias.choices[0])
    value = error.get("input")
    shown = f"={value!r}" if isinstance(value, str) and name != "RADAR_SECRET" else ""
    return f"{name}{shown}: {error['msg']}"


class _GivenSettings(Settings):
    """Settings from a given mapping only (``load_settings(env=...)``): no process env."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings now (not at import time), so tests can point ``RADAR_HOME`` anywhere.

    ``env`` replaces ``os.environ`` (tests). Raises :class:`SettingsError` (one line naming
    the variable) on a malformed value."""
    environ = os.environ if env is None else env
    home = Path(environ.get("RADAR_HOME") or Path.home() / ".radar").expanduser()
    try:
        if env is None:
            return Settings(_env_file=home / ".env", RADAR_HOME=home)  # type: ignore[call-arg]
        values = {k: v for k, v in env.items() if k.startswith("RADAR_")}
        return _GivenSettings(_env_file=None, **{**values, "RADAR_HOME": home})  # type: ignore[arg-type,call-arg]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def ensure_home(settings: Settings) -> Path:
    """Create ``RADAR_HOME`` (a fresh machine has none); one clear error if impossible."""
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"RADAR_HOME={settings.home}: cannot create it ({exc.strerror or exc})"
        ) from None
    if not os.access(settings.home, os.W_OK):
        raise SettingsError(f"RADAR_HOME={settings.home}: not writable")
    return settings.home


_secrets: dict[Path, str] = {}


def home_secret(home: Path) -> str:
    """The secret in ``home/secret``, generated (0600, atomically) on first use."""
    home = home.resolve()
    if home in _secrets:
        return _secrets[home]
    path = home / SECRET_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(_random.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)  # first writer wins; a concurrent one reads the winner's
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        sys.stderr.write(f"radar: generated a token secret in {path} (mode 0600)\n")
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 16:
        raise SettingsError(f"{path}: the secret is too short (delete the file to regenerate)")
    _secrets[home] = secret
    return secret
