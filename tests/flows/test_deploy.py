"""``radar deploy``'s deployments: the serve ones, for a work pool, with no machine paths.

The whole path (server, workers, kill -9) is tests/scale/test_work_pool.py (.ci/run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.distributed import (
    BATCH_DEPLOYMENT,
    DISPATCH_QUEUE,
    DISTRIBUTED_ENV,
    HEARTBEAT_SECONDS,
    POOL_TAG,
    RERUN_CRASHED,
    batches,
    crash_automations,
    host_limit_name,
)


def test_pool_deployments_use_module_entrypoints(radar_home: Path) -> None:
    from flows.service import build_deployments

    (radar_home / "sources.toml").write_text(
        '[[sources]]\nname = "portal"\nurl = "https://www.example.gov.cn/zcwj/index.html"\n'
        'schedule = "5 * * * *"\n',
        encoding="utf-8",
    )
    served = {f"{d.flow_name}/{d.name}" for d in build_deployments(None)}
    pooled = {f"{d.flow_name}/{d.name}": d for d in build_deployments(None, pool="radar-pool")}
    assert served | {BATCH_DEPLOYMENT} == set(pooled)
    for name, deployment in pooled.items():
        assert deployment.work_pool_name == "radar-pool", name
        assert ":" not in deployment.entrypoint and deployment.entrypoint.startswith("flows.")
        assert deployment._path is None, name  # nothing of this checkout is recorded
        assert deployment.job_variables == {
            "env": {
                DISTRIBUTED_ENV: "1",
                "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS),
            }
        }
        assert deployment.tags == [POOL_TAG], name
    poll = pooled["poll-source/portal"]
    assert poll.parameters == {"name": "portal"}  # each worker reads its RADAR_HOME's file
    assert poll.schedules[0].schedule.cron == "5 * * * *"
    assert pooled["dispatch-alerts/on-change"].triggers
    for name, deployment in pooled.items():  # dispatch runs queue behind the polls' batches
        queue = DISPATCH_QUEUE if name.startswith("dispatch-alerts/") else None
        assert deployment.work_queue_name == queue, name


def test_deploy_needs_a_server(radar_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.deploy import DeployError, deploy_to_pool

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with pytest.raises(DeployError, match="PREFECT_API_URL"):
        deploy_to_pool("radar-pool")


def test_lost_after_needs_two_heartbeats(radar_home: Path) -> None:
    from flows.deploy import DeployError, deploy_to_pool

    with pytest.raises(DeployError, match="at least 60"):
        deploy_to_pool("radar-pool", lost_after=30)


def test_host_limit_names_are_valid() -> None:
    assert host_limit_name("127.0.0.1:8080") == "radar-host-127.0.0.1-8080"
    assert host_limit_name("WWW.Gov.CN") == "radar-host-www.gov.cn"


def test_batches_spread_a_poll_and_bound_each_run() -> None:
    links = list(range(10))
    assert [len(b) for b in batches(links, fanout=4, batch=20)] == [3, 3, 2, 2]
    assert [len(b) for b in batches(list(range(200)), fanout=8, batch=20)] == [20] * 10
    assert batches([1], fanout=4, batch=20) == [[1]]
    assert batches([], fanout=4, batch=20) == []
    assert [x for b in batches(links, fanout=3, batch=2) for x in b] == links  # order kept


def test_crash_automations_match_pool_runs_only() -> None:
    autos = {a.name: a for a in crash_automations()}
    assert len(autos) == 3
    for automation in autos.values():
        trigger = automation.trigger
        # only the runs of the deployments radar deploy tagged
        assert trigger.match_related.root == {"prefect.resource.id": f"prefect.tag.{POOL_TAG}"}
    rerun = autos[RERUN_CRASHED]
    assert rerun.trigger.expect == {"prefect.flow-run.Crashed"}
    assert rerun.trigger.posture == "Reactive"
    assert rerun.actions[0].state == "SCHEDULED"
