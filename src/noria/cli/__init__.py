"""The ``noria`` command line: a thin layer that parses, calls the project API and prints.

Errors a user can fix print one line on stderr and exit 2 (1 for internal errors, 130 for
Ctrl-C); ``--debug`` shows the traceback instead. Commands import what they need when they run,
so ``noria --help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from noria.cli import (
    data_cmds,
    demo,
    evaluate_cmds,
    export_cmds,
    model_cmds,
    monitor_cmds,
    project_cmds,
    store_cmds,
    ui_cmds,
)
from noria.cli._output import fail

app = typer.Typer(
    name="noria",
    help="noria: the whole life of a machine-learning model, local-first.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
) -> None:
    """noria: ingest, validate, train, track, register — one tool, one noria.yaml."""
    _STATE["debug"] = debug


_STATE = {"debug": False}

project_cmds.register(app)
demo.register(app)
model_cmds.register(app)
data_cmds.register(app)
monitor_cmds.register(app)
evaluate_cmds.register(app)
ui_cmds.register(app)
store_cmds.register(app)
export_cmds.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``noria`` console script."""
    from noria.errors import NoriaError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        app(args=argv, standalone_mode=False)
    except NoriaError as exc:
        if debug:
            raise
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        if debug:
            raise
        fail("interrupted; what finished is stored, and `noria run` resumes from the cache", 130)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors, and bugs
        clicks = _click_exceptions()
        if isinstance(exc, clicks.ClickException):
            exc.show()
            sys.exit(2 if isinstance(exc, clicks.UsageError) else 1)
        if isinstance(exc, typer.Abort):
            fail("aborted", 130)
        if debug:
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", 1)


def _click_exceptions() -> Any:
    """The exceptions of the click that typer runs on (typer >= 0.20 vendors its own click)."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions
