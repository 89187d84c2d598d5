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

from flows.distributed import check_rerun_limit  # noqa: E402
from flows.orchestrate import flow, run_logger  # noqa: E402
from flows.tasks import send_alerts  # noqa: E402

#: Rounds one run may make before leaving the rest to the next run (a bound, not a goal).
MAX_ROUNDS = 20


@flow(name="dispatch-alerts", flow_run_name="dispatch alerts")
def dispatch_alerts() -> dict[str, Any]:
    """Send every due delivery; returns the summed counts and the number of ``rounds``.

    Runs are coalesced: the ``on-change`` deployment allows one at a time and cancels a
    run triggered while another is running (``radar serve`` sets that up), so this one
    sends again while the last round found something: what the cancelled runs would have
    sent is sent here. 50 changed documents make a handful of runs, not 50."""
    check_rerun_limit()
    report = send_alerts()
    rounds = 1
    last = report
    while last.get("claimed") and rounds < MAX_ROUNDS:
        last = send_alerts()
        rounds += 1
        for key, value in last.items():
            if isinstance(value, int) and isinstance(report.get(key), int):
                report[key] += value
            elif isinstance(value, list):
                report[key] = [*report.get(key, []), *value]
    report["rounds"] = rounds
    run_logger().info("dispatch: %s", report)
    return report
