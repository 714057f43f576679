"""The environment of every git process cmtool starts: history as committed.

``git replace`` refs and the legacy ``info/grafts`` file make git show other
objects, or other parents, than the ones a commit's id stands for. Anyone who
can write to a repository can add them, and an auditor's copy may carry them:
a forged event would then pass for the sealed one. cmtool's git processes
ignore both, and ``audit verify`` reports that they exist.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# A path that can never exist (a file below /dev/null): git then reads no grafts.
_NO_GRAFTS = os.path.join(os.devnull, "no-grafts")
AS_COMMITTED = {"GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": _NO_GRAFTS}


def git_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` with replace refs and grafts turned off (plus ``extra``)."""
    env = dict(os.environ)
    env.update(extra or {})
    env.update(AS_COMMITTED)
    return env
