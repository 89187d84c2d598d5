"""The operator's first hour (issue 14), each as real ``radar`` processes on a fresh,
empty ``HOME``: first-run ingest and poll, usage and config errors, the generated secret,
the web sign-up's confirmation email, and ``radar serve``'s Prefect UI and status."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from flows.service import free_port
from tests.flows.conftest import SEEDS
from tests.flows.service_helpers import ROOT, stop, track, wait_for

RUN_RADAR = "import sys; from flows.cli import main; main(sys.argv[1:])"


def fresh_env(home: Path, **extra: str) -> dict[str, str]:
    """A new user's environment: an empty HOME, no RADAR_*/PREFECT_* settings at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RADAR_", "PREFECT_"))}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


def radar(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN_RADAR, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_first_ingest_on_an_empty_home_works_without_prefect(tmp_path: Path) -> None:
    home = tmp_path / "empty-home"
    home.mkdir()
    env = fresh_env(home)
    code = (
        "import sys; from flows.cli import main\n"
        "try:\n    main(sys.argv[1:])\n"
        "finally:\n    print('prefect imported:', 'prefect' in sys.modules, file=sys.stderr)\n"
    )
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", code, "ingest", str(SEEDS / "004_2276e3ffef9e3d8c.pdf")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "new series" in proc.stdout
    # No temporary Prefect server (it would take 10-40 s and leave "Starting temporary
    # server" lines); Prefect is not even imported on the local path.
    assert "prefect imported: False" in proc.stderr
    assert "Traceback" not in proc.stderr and "ephemeral" not in proc.stderr.lower()
    assert time.monotonic() - started < 90
    radar_home = home / ".radar"
    assert (radar_home / "radar.db").is_file()
    assert (radar_home / "prefect").is_dir()
    # A second command in the same home sees the stored version.
    history = radar(env, "history", "--json")
    assert history.returncode == 0, history.stderr
    assert json.loads(history.stdout)[0]["version_count"] == 1


def test_several_files_in_one_ingest_and_a_bad_one_does_not_stop_the_rest(
    tmp_path: Path,
) -> None:
    env = fresh_env(tmp_path)
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"\x00\x01 not a document" * 10)
    proc = radar(
        env,
        "ingest",
        str(SEEDS / "002_152408040e809265.txt"),
        str(junk),
        str(SEEDS / "004_2276e3ffef9e3d8c.txt"),
        "--json",
    )
    assert proc.returncode == 1
    assert [json.loads(proc.stdout)[i]["status"] for i in (0, 1)] == ["new_series"] * 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"radar: {junk}")


def test_an_uncreatable_radar_home_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = fresh_env(tmp_path, RADAR_HOME=str(blocker / "radar"))
    proc = radar(env, "ingest", str(SEEDS / "004_2276e3ffef9e3d8c.txt"))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"radar: RADAR_HOME={blocker / 'radar'}: cannot create it (Not a directory)"
    ]


@pytest.mark.parametrize(
    ("args", "usage", "error"),
    [
        (["parse"], "Usage: radar parse [OPTIONS] {FILE}...", "Missing argument"),
        (["bogus"], "Usage: radar [OPTIONS] COMMAND [ARGS]...", "No such command 'bogus'"),
        (["parse", "--jsn", "x.pdf"], "Usage: radar parse", "No such option: --jsn"),
        (["ingest"], "Usage: radar ingest [OPTIONS] {FILE|URL}...", "Missing argument"),
    ],
)
def test_usage_errors_print_click_usage(
    tmp_path: Path, args: list[str], usage: str, error: str
) -> None:
    proc = radar(fresh_env(tmp_path), *args)
    assert proc.returncode == 2
    assert usage in proc.stderr and error in proc.stderr
    assert "unexpected" not in proc.stderr and "Traceback" not in proc.stderr


def test_config_errors_are_one_line_before_anything_starts(tmp_path: Path) -> None:
    env = fresh_env(tmp_path, RADAR_FETCH_INTERVAL="abc")
    proc = radar(env, "poll")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "radar: RADAR_FETCH_INTERVAL='abc': Input should be a valid number, "
        "unable to parse string as a number"
    ]
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "x"\nurl = "http://example.org/\n', encoding="utf-8")
    started = time.monotonic()
    proc = radar(fresh_env(tmp_path), "poll", "--sources", str(sources))
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"radar: {sources}: invalid TOML")
    assert time.monotonic() - started < 30  # not after a Prefect server's start-up
    assert not (tmp_path / ".radar" / "radar.db").exists()  # nothing half-written
    # serve reads the file after it is ready (with its deployments), but checks it first.
    env = fresh_env(tmp_path, RADAR_PREFECT_PORT=str(free_port()), RADAR_WEB_PORT=str(free_port()))
    proc = radar(env, "serve", "--sources", str(sources))
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"radar: {sources}: invalid TOML")
    assert not (tmp_path / ".radar" / "prefect" / "server.log").exists()  # nothing started


def test_the_secret_is_generated_per_home_and_the_old_default_is_refused(
    tmp_path: Path,
) -> None:
    from alerts.errors import InvalidToken
    from alerts.tokens import make_token, read_token
    from storage.settings import OLD_DEFAULT_SECRET, load_settings

    settings = load_settings({"RADAR_HOME": str(tmp_path / "home")})
    secret = settings.secret
    path = tmp_path / "home" / "secret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert secret != OLD_DEFAULT_SECRET and len(secret) >= 32
    assert load_settings({"RADAR_HOME": str(tmp_path / "home")}).secret == secret
    assert load_settings({"RADAR_HOME": str(tmp_path / "other")}).secret != secret
    forged = make_token(OLD_DEFAULT_SECRET, "confirm", 1, "victim@example.org")
    with pytest.raises(InvalidToken):
        read_token(secret, "confirm", forged)
    # Configuring the old default is refused outright, in one line.
    proc = radar(fresh_env(tmp_path, RADAR_SECRET=OLD_DEFAULT_SECRET), "status")
    assert proc.returncode == 1
    assert proc.stderr.startswith("radar: RADAR_SECRET: Value error, is the old public default")


def _post(url: str, data: dict[str, str]) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_web_sign_up_sends_its_confirmation_without_another_process(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", RUN_RADAR, "web", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("radar web", lambda: _get(base + "/healthz")[0] == 200, 120, log)
        status, _ = _post(base + "/subscribe", {"email": "new.reader@example.org"})
        assert status == 202
        outbox = tmp_path / ".radar" / "outbox"
        emails = wait_for(
            "the confirmation in the outbox",
            lambda: sorted(outbox.glob("*.eml")) if outbox.is_dir() else [],
            60,
            log,
        )
        text = emails[0].read_text(encoding="utf-8", errors="replace")
        assert "new.reader@example.org" in text and "confirm" in text
    finally:
        stop(process)
    # ... and the outbox table records it as sent.
    proc = radar(env, "alerts", "status", "--json")
    assert json.loads(proc.stdout).get("sent") == 1


@pytest.mark.slow
@pytest.mark.prefect
@pytest.mark.timeout(300)
def test_serve_prints_urls_its_ui_reaches_its_api_and_cli_runs_go_through_it(
    tmp_path: Path,
) -> None:
    prefect_port, web_port = free_port(), free_port()
    env = fresh_env(tmp_path, RADAR_PREFECT_PORT=str(prefect_port), RADAR_WEB_PORT=str(web_port))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = track(
            subprocess.Popen(
                [sys.executable, "-c", RUN_RADAR, "serve"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            env,
        )
    try:
        text = wait_for(
            "serve to be ready",
            lambda: "web pages:" in (t := log.read_text(errors="replace")) and t,
            240,
            log,
        )
        ui = re.search(r"Prefect UI:\s+(\S+)", text)
        web = re.search(r"web pages:\s+(\S+)", text)
        assert ui is not None and web is not None, text
        assert ui.group(1) == f"http://127.0.0.1:{prefect_port}"
        # What the UI in a browser asks first: where is my API? It must answer there.
        status, body = _get(ui.group(1) + "/ui-settings")
        assert status == 200
        api_url = json.loads(body)["api_url"]
        assert api_url == f"http://127.0.0.1:{prefect_port}/api"
        assert _get(api_url + "/health")[0] == 200
        assert _get(web.group(1))[0] == 200
        status_proc = radar(env, "status", "--json")
        info: dict[str, Any] = json.loads(status_proc.stdout)
        assert info["serve"]["pid"] == process.pid and info["serve"]["api_up"]
        assert "through radar serve" in info["cli_runs"]
        # A CLI ingest now runs through serve's Prefect: the run is in its API (and UI).
        ingest = radar(env, "ingest", str(SEEDS / "004_2276e3ffef9e3d8c.txt"), timeout=240)
        assert ingest.returncode == 0, ingest.stderr
        request = urllib.request.Request(
            api_url + "/flow_runs/filter",
            data=b"{}",
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            names = [run["name"] for run in json.loads(response.read())]
        assert any(name.startswith("ingest: ") for name in names), names
    finally:
        code = stop(process)
    assert code == 0, log.read_text(errors="replace")[-3000:]
    assert not (tmp_path / ".radar" / "serve.json").exists()


def test_cli_poll_runs_locally_and_fetches_robots_txt_once_per_host(
    tmp_path: Path, site: Any
) -> None:
    """A changed poll used to fetch robots.txt once per document (a fresh Fetcher each);
    now once per host, and the next poll's process reuses it from RADAR_HOME."""
    home = tmp_path / "radar"
    home.mkdir()
    sources = home / "sources.toml"
    sources.write_text(
        f'[[sources]]\nname = "portal"\nurl = "{site.demo.listing_url}"\n', encoding="utf-8"
    )
    env = fresh_env(
        tmp_path,
        RADAR_HOME=str(home),
        RADAR_ALLOW_PRIVATE_NETWORKS="1",
        RADAR_FETCH_INTERVAL="0",
    )
    first = radar(env, "poll", "--json")
    assert first.returncode == 0, first.stderr
    [report] = json.loads(first.stdout)
    assert len(report["ingested"]) >= 3
    assert len(site.requests_for("/robots.txt")) == 1
    second = radar(env, "poll", "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)[0]["ingested"] == []
    assert len(site.requests_for("/robots.txt")) == 1  # cached with its validators
    assert list((home / "cache" / "robots").glob("*.json"))
