"""``radar deploy``'s deployments: the serve ones, for a work pool, with no machine paths.

The whole path (server, workers, kill -9) is tests/scale/test_work_pool.py (.ci/run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.distributed import DISTRIBUTED_ENV, host_limit_name


def test_pool_deployments_use_module_entrypoints(radar_home: Path) -> None:
    from flows.service import build_deployments

    (radar_home / "sources.toml").write_text(
        '[[sources]]\nname = "portal"\nurl = "https://www.example.gov.cn/zcwj/index.html"\n'
        'schedule = "5 * * * *"\n',
        encoding="utf-8",
    )
    served = {f"{d.flow_name}/{d.name}" for d in build_deployments(None)}
    pooled = {f"{d.flow_name}/{d.name}": d for d in build_deployments(None, pool="radar-pool")}
    assert served | {"ingest-document/poll-item"} == set(pooled)
    for name, deployment in pooled.items():
        assert deployment.work_pool_name == "radar-pool", name
        assert ":" not in deployment.entrypoint and deployment.entrypoint.startswith("flows.")
        assert deployment._path is None, name  # nothing of this checkout is recorded
        assert deployment.job_variables == {"env": {DISTRIBUTED_ENV: "1"}}
    poll = pooled["poll-source/portal"]
    assert poll.parameters == {"name": "portal"}  # each worker reads its RADAR_HOME's file
    assert poll.schedules[0].schedule.cron == "5 * * * *"
    assert pooled["dispatch-alerts/on-change"].triggers


def test_deploy_needs_a_server(radar_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.deploy import DeployError, deploy_to_pool

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with pytest.raises(DeployError, match="PREFECT_API_URL"):
        deploy_to_pool("radar-pool")


def test_host_limit_names_are_valid() -> None:
    assert host_limit_name("127.0.0.1:8080") == "radar-host-127.0.0.1-8080"
    assert host_limit_name("WWW.Gov.CN") == "radar-host-www.gov.cn"
