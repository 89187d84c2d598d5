"""The sources page's view of the polls (:class:`alerts.web.operator.Operator`).

``alerts`` may not import ``flows``, so ``radar web`` and ``radar serve`` hand this object
to :func:`alerts.web.create_app`. It reads ``sources.toml``, computes each source's next
run from its cron (the same default as :mod:`flows.service`) and, under ``radar serve``,
starts the source's ``poll-source`` deployment for "poll now".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from cronsim import CronSim, CronSimError
from sqlalchemy.orm import Session

from alerts.web.operator import SourceStatus
from flows.sources import SourceConfig, SourcesError, load_sources
from storage.browse import health_alarms, site_activity

#: Same default as flows.service.DEFAULT_POLL_CRON (not imported: that module pulls Prefect).
DEFAULT_POLL_CRON = "7 */6 * * *"


def next_run(cron: str, now: datetime | None = None) -> datetime | None:
    try:
        return next(CronSim(cron, now or datetime.now(UTC)))
    except (CronSimError, StopIteration):
        return None


def _site_prefix(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


@dataclass
class SourcesOperator:
    """Sources from ``sources_file``; ``can_poll`` when a Prefect runner serves the
    deployments (``radar serve``)."""

    sources_file: Path
    can_poll: bool = False

    def _configs(self) -> list[SourceConfig]:
        if not self.sources_file.is_file():
            return []
        return load_sources(self.sources_file)

    def sources(self, session: Session) -> list[SourceStatus]:
        alarms = [subject for _at, subject, _status in health_alarms(session, limit=200)]
        return [self._status(session, c, alarms) for c in self._configs()]

    def _status(
        self, session: Session, config: SourceConfig, alarms_all: list[str]
    ) -> SourceStatus:
        activity = site_activity(session, config.url, _site_prefix(config.url))
        schedule = config.schedule or DEFAULT_POLL_CRON
        alarms = []
        if activity.failures:
            alarms.append(f"列表页抓取失败：{activity.last_status}")
        if activity.last_checked_at is None:
            status = "never"
        elif activity.failures or (activity.last_status or "ok") != "ok":
            status = "failing"
        else:
            status = "ok"
        marker = f"source health: {config.name} "  # flows.health's subjects
        alarms.extend(subject for subject in alarms_all if marker in subject)
        return SourceStatus(
            name=config.name,
            url=config.url,
            schedule=schedule,
            next_run=next_run(schedule),
            activity=activity,
            status=status,
            alarms=alarms,
        )

    def poll_now(self, name: str) -> str:
        """Start the ``poll-source/<name>`` deployment without waiting for it."""
        if name not in {c.name for c in self._configs()}:
            raise LookupError(f"没有名为 {name} 的来源。")
        from prefect.deployments import run_deployment

        run = run_deployment(f"poll-source/{name}", timeout=0)
        return str(getattr(run, "name", None) or getattr(run, "id", name))


def operator_for(sources_file: Path | None, *, can_poll: bool) -> SourcesOperator:
    if sources_file is None:
        from storage.settings import load_settings

        sources_file = load_settings().sources_file
    return SourcesOperator(Path(sources_file), can_poll=can_poll)


__all__ = ["SourcesError", "SourcesOperator", "next_run", "operator_for"]
