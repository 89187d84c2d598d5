"""How a one-shot command runs flows: through a Prefect API when there is one, else locally.

``radar ingest`` and ``radar poll`` call :func:`prepare_runs` before importing the flow
modules. With ``PREFECT_API_URL`` set, or a ``radar serve`` of this ``RADAR_HOME`` running,
the flows report to that server (the runs show in its UI and its trigger delivers the
alerts). Otherwise they run in this process without Prefect (``flows.orchestrate``), which
costs what the work costs instead of a temporary Prefect server per call.
"""

from __future__ import annotations

from flows.orchestrate import use_local
from flows.prefect_env import attach_api, ensure_prefect_env


def prepare_runs(*, quiet: bool = True) -> str | None:
    """Choose where this process's flows run; returns the Prefect API URL, or None (local)."""
    ensure_prefect_env(quiet=quiet)
    api = attach_api()
    use_local(api is None)
    return api
