"""Changes cmtool itself makes to rules.yaml, as text edits that keep the
person's layout and comments: only the added lines show in the diff."""

from __future__ import annotations

import re
from collections.abc import Mapping

from cmtool.store.yamlstyle import scalar

_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")
_CATEGORIES = re.compile(r"^categories\s*:\s*(#.*)?$")


def add_categories(text: str, entries: Mapping[str, str]) -> str:
    """``text`` with a ``categories:`` entry (key -> label, no keywords yet) for
    each of ``entries``, after the last category already there."""
    if not entries:
        return text
    block = []
    for key, label in entries.items():
        block += [f"  {scalar(key)}:", f"    label: {scalar(label)}", "    keywords: []"]
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _CATEGORIES.match(line)), None)
    if start is None:
        if any(line.startswith("categories:") for line in lines):
            raise ValueError(
                "rules.yaml writes categories: in a style cmtool cannot add to; add them by hand"
            )
        tail = "" if not text or text.endswith("\n") else "\n"
        return text + tail + "\n".join(["categories:", *block]) + "\n"
    end = start + 1
    last_entry = start
    while end < len(lines) and not _TOP_KEY.match(lines[end]):
        if lines[end].startswith(" ") and lines[end].strip() and not lines[end].lstrip().startswith("#"):
            last_entry = end
        end += 1
    lines[last_entry + 1 : last_entry + 1] = block
    return "\n".join(lines) + "\n"


def category_key(label: str, taken: set[str]) -> str:
    """A stable taxonomy key for a sheet's word: lower case, words joined by ``_``."""
    key = "_".join(re.findall(r"\w+", label.lower())) or "category"
    key = key[:48].strip("_") or "category"
    unique, count = key, 1
    while unique in taken:
        count += 1
        unique = f"{key}_{count}"
    taken.add(unique)
    return unique
