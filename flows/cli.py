"""The ``radar`` command line.

Each group of commands lives in ``flows/commands/<topic>.py`` with a ``register(app)``
function, so the modules stay small and their heavy imports (Prefect, SQLAlchemy) happen
inside the command bodies: ``radar parse`` and ``radar diff`` never import Prefect.

Errors: any :class:`parsers.errors.RadarError` (and the CLI's own ``CliError``) becomes one
line on stderr and exit code 1; ``--debug`` shows the traceback instead.

The hot one-shot commands (``radar parse FILE...``, ``radar ingest FILE...``) with plain
arguments skip typer: building the app imports typer and click and makes typer build a
pydantic ``TypeAdapter`` per parameter of every command (~0.04–0.05 s CPU, an eighth of a
one-file ``radar parse``). Anything the lean reading does not recognise exactly (``--help``,
an unknown option, no file) goes to typer, so usage errors are click's.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from parsers.errors import RadarError

if TYPE_CHECKING:
    import typer

#: Command modules, in help order (each light to import: heavy imports live in the commands).
COMMAND_MODULES = (
    "flows.commands.parse",
    "flows.commands.diff",
    "flows.commands.store",
    "flows.commands.alerts",
    "flows.commands.held",
    "flows.commands.service",
    "flows.commands.deploy",
)

_state = {"debug": False}


class CliError(RadarError):
    """A usage problem detected by a command (missing file, bad option value)."""


def debug_enabled() -> bool:
    """Whether ``--debug`` was given (commands use it to keep library logging visible)."""
    return _state["debug"]


#: Commands that read no RADAR_* setting (pure parsing): they skip loading the settings.
PURE_COMMANDS = frozenset({"parse", "diff"})


def _check_settings(command: str | None) -> None:
    if command not in PURE_COMMANDS:
        from storage.settings import load_settings

        load_settings()  # a malformed RADAR_* setting is one line before any work starts


_apps: list[typer.Typer] = []


def build_app() -> typer.Typer:
    """The typer application with every command (built once per process)."""
    if not _apps:
        from flows.commands.app import make_app

        _apps.append(make_app(COMMAND_MODULES, _state, _check_settings))
    return _apps[0]


def __getattr__(name: str) -> Any:
    if name == "app":  # ``from flows.cli import app`` (typer's CliRunner in tests)
        return build_app()
    raise AttributeError(f"module 'flows.cli' has no attribute {name!r}")


#: The lean commands: name -> (flags, options taking a value).
LEAN_COMMANDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "parse": (frozenset({"--json"}), frozenset()),
    "ingest": (frozenset({"--json"}), frozenset({"--series"})),
}


def lean_args(args: list[str]) -> tuple[str, list[str], dict[str, Any]] | None:
    """``(command, positional, options)`` for a hot command with plain arguments, else None
    (typer handles it, with click's usage text for whatever is wrong)."""
    if not args or args[0] not in LEAN_COMMANDS:
        return None
    flags, valued = LEAN_COMMANDS[args[0]]
    positional: list[str] = []
    options: dict[str, Any] = {}
    rest = iter(args[1:])
    for arg in rest:
        if arg in flags:
            options[arg] = True
        elif arg in valued:
            value = next(rest, None)
            if value is None or value.startswith("-") or arg in options:
                return None
            options[arg] = value
        elif arg.startswith("-"):
            return None
        else:
            positional.append(arg)
    return (args[0], positional, options) if positional else None


def _run_lean(command: str, positional: list[str], options: dict[str, Any]) -> int:
    """Run a hot command the way its typer command would; returns the exit code."""
    _check_settings(command)
    as_json = bool(options.get("--json"))
    if command == "parse":
        from pathlib import Path

        from flows.commands.parse import run_parse

        return run_parse([Path(p) for p in positional], as_json)
    from flows.commands.store import run_ingest

    return run_ingest(positional, options.get("--series"), as_json)


def _is_click(exc: BaseException, name: str) -> bool:
    """Whether ``exc`` is click's ``name`` exception: typer >= 0.20 vendors click as
    ``typer._click`` with its own classes, so neither ``click.ClickException`` alone nor a
    private import would catch both."""
    return any(cls.__name__ == name for cls in type(exc).__mro__)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point with the one-line error convention; usage errors
    (missing argument, unknown command or option) print click's usage text, exit 2.

    Called without ``argv`` (the ``radar`` script, ``python -m flows.cli``) the process
    ends through :func:`_exit_now` when the command is done; called with ``argv`` (tests,
    other Python code) it raises ``SystemExit`` like any click program."""
    if argv is not None:
        _run(argv)
        return
    try:
        _run(sys.argv[1:])
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _exit_now(code: object) -> None:
    """End a one-shot command without the interpreter's teardown.

    Tearing down the ~800 modules a command imports (SQLAlchemy, pydantic, the parser)
    costs 0.1–0.2 s of CPU — a fifth of a one-file ``radar ingest`` — and does nothing a
    finished command needs. What exit must still do is done here: the ``atexit`` handlers
    (the parse worker's shutdown, logging's flush) and flushing stdout/stderr. A process
    with threads left (``serve``, a background send) exits the normal way, so Python
    joins them."""
    status = code if isinstance(code, int) else (0 if code is None else 1)
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
    if threading.active_count() > 1:
        raise SystemExit(status)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # reader gone or stream closed: keep the code
        status = status or 1
    os._exit(status)


def _run(args: list[str]) -> None:
    """Run one command line; every outcome leaves as ``SystemExit`` or a normal return."""
    _state["debug"] = "--debug" in args
    try:
        lean = lean_args(args)
        if lean is not None:
            code: Any = _run_lean(*lean)
        else:
            # With standalone_mode=False click returns the code of typer.Exit instead of raising.
            code = build_app()(args=args, prog_name="radar", standalone_mode=False)
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("radar: interrupted\n")
        raise SystemExit(130) from None
    except RadarError as exc:
        if _state["debug"]:
            raise
        sys.stderr.write(f"radar: {exc}\n")
        raise SystemExit(1) from None
    except Exception as exc:
        if _is_click(exc, "Exit"):
            raise SystemExit(getattr(exc, "exit_code", 0)) from None
        if _is_click(exc, "ClickException"):
            exc.show()  # type: ignore[attr-defined]  # usage text and the error
            raise SystemExit(getattr(exc, "exit_code", 2)) from None
        if _is_click(exc, "Abort"):
            sys.stderr.write("radar: aborted\n")
            raise SystemExit(1) from None
        if _state["debug"]:
            raise
        sys.stderr.write(f"radar: unexpected {type(exc).__name__}: {exc} (rerun with --debug)\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
