"""What derived facts in the index depend on besides the case file and the rules:
the code that derives them. Hashing the sources (not a version number) derives the
facts again after any change of that code, released or not."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from cmtool.store.cachefile import installed_version

PACKAGE = Path(__file__).resolve().parent.parent
DERIVING_FOLDERS = ("model", "rules", "sla")  # every deriver reads cases, rules and clocks


@cache
def code_version(*modules: str) -> str:
    """The holidays package's version, ``modules`` (paths in the package) and every
    module of the folders that cases, rules and clocks live in, hashed."""
    digest = hashlib.sha256(installed_version("holidays", "holidays").encode())
    sources = [PACKAGE / module for module in modules]
    for folder in DERIVING_FOLDERS:
        sources += sorted((PACKAGE / folder).glob("*.py"))
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()
