"""The ``cmtool`` command: registers the command modules and maps errors to exit codes."""

import importlib
import logging
import os
import sys
from typing import Annotated

import typer

from cmtool.cli.common import for_terminal
from cmtool.errors import CmtoolError

app = typer.Typer(
    name="cmtool",
    help="Consumer-complaint management on a git repository of YAML files.\n\n"
    "Exit codes: 0 ok; 1 findings (validate problems, SLA breaches, audit findings); "
    "2 usage or data error; 3 not found; 4 refused (ambiguous ID, transition not allowed); "
    "5 workspace busy; 6 git failure or uncommitted hand edits; 70 internal error.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich help rendering costs ~90 ms at start-up
    add_completion=True,  # --install-completion for bash, zsh, fish and PowerShell
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from cmtool import __version__

        typer.echo(f"cmtool {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Consumer-complaint management on a git repository of YAML files."""


# Each module adds its commands to ``app`` when imported. Importing them costs
# little: heavy libraries are imported inside the commands that need them.
COMMAND_MODULES = (
    "cmtool.cli.workspace_cmds",
    "cmtool.cli.case_cmds",
    "cmtool.cli.query_cmds",
    "cmtool.cli.index_cmds",
    "cmtool.cli.audit_cmds",
    "cmtool.cli.team_cmds",
    "cmtool.cli.transfer_cmds",
    "cmtool.cli.report_cmds",
    "cmtool.cli.survey_cmds",
    "cmtool.cli.sla_cmds",
    "cmtool.cli.privacy_cmds",
    "cmtool.cli.bulk_cmds",
    "cmtool.cli.undo_cmds",
    "cmtool.cli.evidence_cmds",
    "cmtool.cli.letter_cmds",
    "cmtool.cli.intake_cmds",
    "cmtool.cli.serve_cmds",
)


_registered = False


def _register() -> None:
    global _registered
    if not _registered:
        for name in COMMAND_MODULES:
            importlib.import_module(name).register(app)
        _registered = True


def _show_warnings() -> None:
    """Warnings of the layers below (``logging.getLogger("cmtool")``) as
    ``warning: ...`` lines on stderr: the command still succeeded."""
    logger = logging.getLogger("cmtool")
    if not logger.handlers:
        handler = logging.StreamHandler()  # stderr, looked up when written
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def run(argv: list[str] | None = None) -> int:
    """Run one command line; returns the exit code. Errors become one line on stderr."""
    _register()
    _show_warnings()
    try:
        app(args=argv, prog_name="cmtool")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except CmtoolError as err:
        typer.echo(for_terminal(f"error: {err}", sys.stderr), err=True)
        if err.hint:
            typer.echo(for_terminal(f"hint: {err.hint}", sys.stderr), err=True)
        return err.exit_code
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # a bug: one clear line, the traceback on request
        if os.environ.get("CMTOOL_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        typer.echo("hint: rerun with CMTOOL_DEBUG=1 for the traceback, and report it", err=True)
        return 70
    return 0


def main() -> None:
    sys.exit(run())
