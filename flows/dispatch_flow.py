"""``dispatch_alerts``: deliver what is due (instant alerts, digests, retries, admin mail).

Started three ways: by the deployment trigger on ``radar.document.changed`` (seconds after
an ingest, under ``radar serve``), by a schedule as a safety net (retries whose backoff has
expired, a missed event) and the morning digest schedule, and directly at the end of an
ingest or poll when no Prefect server runs. Concurrent runs are safe: ``send_due`` claims
rows with a lease, so two dispatchers never send the same email.
"""

from __future__ import annotations

from flows.prefect_env import ensure_prefect_env

ensure_prefect_env()

from typing import Any  # noqa: E402

from flows.orchestrate import flow, run_logger  # noqa: E402
from flows.tasks import send_alerts  # noqa: E402


@flow(name="dispatch-alerts", flow_run_name="dispatch alerts")
def dispatch_alerts() -> dict[str, Any]:
    """Send every due delivery once; returns the counts (claimed, sent, retrying, dead)."""
    report = send_alerts()
    run_logger().info("dispatch: %s", report)
    return report
