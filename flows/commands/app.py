"""The typer application of ``radar`` (built only for commands the lean path does not run:
see :mod:`flows.cli`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any

import typer


def make_app(
    modules: Iterable[str], state: dict[str, Any], check_settings: Callable[[str | None], None]
) -> typer.Typer:
    """The app with the root ``--debug`` option and every command module registered."""
    app = typer.Typer(
        name="radar",
        help="policy-radar: watch government documents, diff their tasks and targets, alert subscribers.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        ctx: typer.Context,
        debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    ) -> None:
        state["debug"] = debug
        check_settings(ctx.invoked_subcommand)

    for name in modules:
        import_module(name).register(app)
    return app
