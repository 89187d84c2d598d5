"""One flow code, run through Prefect or in-process without it.

The flow modules (``ingest_flow``, ``poll_flow``, ``dispatch_flow``, ``tasks``) declare their
flows and tasks with :func:`flow` and :func:`task` from here. When a Prefect API is there
(``radar serve``, a worker, ``PREFECT_API_URL``, the tests' ephemeral server) these are
Prefect's own decorators, so runs, task runs, events and artifacts show in its UI. A
one-shot CLI command with no API to report to calls :func:`use_local` first: then the same
functions run as plain Python, and ``prefect`` is never imported.

Why not Prefect's ephemeral mode for the CLI: without ``PREFECT_API_URL`` Prefect 3.8 starts
a temporary server subprocess (``SubprocessASGIServer``, see ``prefect.client.orchestration
.get_client``) on the first run of every process — 10–40 s, and importing Prefect costs
another ~2.5 s of CPU, against well under a second for parsing and storing one file. The
server was the only consumer of what local mode drops (run records, events, artifacts);
the deliveries, the fetch state and the versions are in radar's database either way.

The mode is fixed per process before the flow modules are imported (decorators run at
import time); ``RADAR_RUNS=local|prefect`` overrides it.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_mode: dict[str, bool | None] = {"local": None}

log = logging.getLogger("radar.flows")


def use_local(local: bool = True) -> None:
    """Run flows in-process without Prefect (call before importing the flow modules)."""
    _mode["local"] = local


def is_local() -> bool:
    forced = os.environ.get("RADAR_RUNS", "").strip().lower()
    if forced in {"local", "prefect"}:
        return forced == "local"
    return bool(_mode["local"])


class LocalFlow:
    """A flow or task run as a plain call: ``.fn`` and the name, like Prefect's objects."""

    def __init__(self, fn: Callable[..., Any], name: str | None) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or fn.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


def flow(**options: Any) -> Callable[[F], Any]:
    """``prefect.flow(**options)``, or a :class:`LocalFlow` in local mode."""

    def decorate(fn: F) -> Any:
        if is_local():
            return LocalFlow(fn, options.get("name"))
        from prefect import flow as prefect_flow

        return prefect_flow(**options)(fn)

    return decorate


def task(*, no_cache: bool = False, **options: Any) -> Callable[[F], Any]:
    """``prefect.task(**options)`` (``no_cache``: ``cache_policy=NO_CACHE``), or a
    :class:`LocalFlow` in local mode."""

    def decorate(fn: F) -> Any:
        if is_local():
            return LocalFlow(fn, options.get("name"))
        from prefect import task as prefect_task

        if no_cache:
            from prefect.cache_policies import NO_CACHE

            options["cache_policy"] = NO_CACHE
        return prefect_task(**options)(fn)

    return decorate


def run_logger() -> Any:
    """Prefect's run logger (its lines go to the UI), or ``radar.flows`` in local mode."""
    if is_local():
        return log
    from prefect import get_run_logger

    return get_run_logger()


def emit_event(**event: Any) -> None:
    """``prefect.events.emit_event``; nothing in local mode (no trigger would hear it: the
    caller delivers the alerts itself)."""
    if is_local():
        return
    from prefect.events import emit_event as prefect_emit

    prefect_emit(**event)


def markdown_artifact(**artifact: Any) -> None:
    """``create_markdown_artifact``; nothing in local mode (no UI to show it)."""
    if is_local():
        return
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(**artifact)
