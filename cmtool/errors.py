"""Operational failures, each with a user message and a stable exit code.

Bad *data* is reported as values (see ``cmtool.model.problems``); these
exceptions are for things that stop a command. The CLI turns them into one
line on stderr and the exit code below, in one place (``cmtool.cli.app``).
"""

from __future__ import annotations

# Documented in README.md ("Exit codes"); scripts rely on them, never renumber.
EXIT_OK = 0
EXIT_FINDINGS = 1  # validate problems, SLA breaches, audit findings
EXIT_USAGE = 2  # bad flag or value, malformed input or data file
EXIT_NOT_FOUND = 3  # unknown case ID, no workspace
EXIT_REFUSED = 4  # ambiguous ID prefix, transition not allowed, too late, rules.yaml does not allow it
EXIT_BUSY = 5  # workspace lock not obtained in time
EXIT_GIT = 6  # git failure, dirty case file, sync could not finish


class CmtoolError(Exception):
    """Base class: ``str(err)`` is the message a user sees."""

    exit_code = EXIT_USAGE
    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint:
            self.hint = hint


class UsageError(CmtoolError):
    exit_code = EXIT_USAGE


class DataError(CmtoolError):
    """A file the command needs is broken (YAML syntax, schema, rules)."""

    exit_code = EXIT_USAGE


class NotFound(CmtoolError):
    exit_code = EXIT_NOT_FOUND


class Ambiguous(CmtoolError):
    exit_code = EXIT_REFUSED


class InvalidTransition(CmtoolError):
    exit_code = EXIT_REFUSED


class TooLate(CmtoolError):
    """An extension or a holding reply recorded after the deadline it answers."""

    exit_code = EXIT_REFUSED


class Refused(CmtoolError):
    """rules.yaml does not allow the action (a role, a person, a value)."""

    exit_code = EXIT_REFUSED


class Busy(CmtoolError):
    exit_code = EXIT_BUSY


class GitError(CmtoolError):
    exit_code = EXIT_GIT


class DirtyWorkspace(CmtoolError):
    exit_code = EXIT_GIT
