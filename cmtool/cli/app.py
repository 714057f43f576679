"""The ``cmtool`` command: registers the command modules and maps errors to exit codes."""

import gc
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
# The module of each top-level command: a command line that names one imports and
# builds only that module's commands (building all of them costs ~50 ms a start);
# help, completion and names missing here get every module (a new command works
# before it is listed, only slower). tests/test_cli_startup.py holds this table to
# what the modules register.
COMMAND_MODULE = {
    **dict.fromkeys(("init", "validate", "demo", "people"), "cmtool.cli.workspace_cmds"),
    **dict.fromkeys(
        ("file", "assign", "note", "wait", "resume", "escalate", "edit", "resolve", "close", "reopen"),
        "cmtool.cli.case_cmds",
    ),
    **dict.fromkeys(("list", "search", "show"), "cmtool.cli.query_cmds"),
    "index": "cmtool.cli.index_cmds",
    **dict.fromkeys(("history", "audit"), "cmtool.cli.audit_cmds"),
    **dict.fromkeys(("sync", "merge-driver", "install", "doctor"), "cmtool.cli.team_cmds"),
    **dict.fromkeys(("import", "export"), "cmtool.cli.transfer_cmds"),
    **dict.fromkeys(("stats", "report"), "cmtool.cli.report_cmds"),
    "survey": "cmtool.cli.survey_cmds",
    "sla": "cmtool.cli.sla_cmds",
    "privacy": "cmtool.cli.privacy_cmds",
    "bulk": "cmtool.cli.bulk_cmds",
    "undo": "cmtool.cli.undo_cmds",
    **dict.fromkeys(("attach", "link", "attachments"), "cmtool.cli.evidence_cmds"),
    "letter": "cmtool.cli.letter_cmds",
    "intake": "cmtool.cli.intake_cmds",
    "serve": "cmtool.cli.serve_cmds",
}
COMPLETION_ENV = "_CMTOOL_COMPLETE"  # set by the shell when it asks for completions

_registered: list[str] = []


def _register(argv: list[str] | None = None) -> None:
    """Add the commands this command line needs (all of them for help and completion)."""
    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args else None  # an option first (cmtool --help file) shows every command
    if name in COMMAND_MODULE and not os.environ.get(COMPLETION_ENV):
        wanted: tuple[str, ...] = (COMMAND_MODULE[name],)
    else:
        wanted = COMMAND_MODULES
        if _registered and tuple(_registered) != wanted:  # keep the help's order
            app.registered_commands.clear()
            app.registered_groups.clear()
            _registered.clear()
    for module in wanted:
        if module not in _registered:
            importlib.import_module(module).register(app)
            _registered.append(module)


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
    _register(argv)
    _show_warnings()
    # A command is a short process that builds tens of thousands of objects without
    # cycles (records, cases, findings); the cyclic collector scanning them again and
    # again costs a quarter of a report at 100k cases (README, "Speed").
    # Reference counting still frees all of them. `serve` runs on: it collects.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(argv)
    finally:
        if collecting:
            gc.enable()


def _run(argv: list[str] | None) -> int:
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
