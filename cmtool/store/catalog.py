"""All cases of a workspace, for listing, SLA checks, stats, reports and export."""

from __future__ import annotations

from collections.abc import Collection

from cmtool.errors import DataError
from cmtool.model.case import Case
from cmtool.store.casefiles import iter_case_paths, read_text
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load


def all_cases(ws: Workspace, statuses: Collection[str] | None = None) -> list[Case]:
    """Every case (or those in ``statuses``), in ID order. A broken file raises
    DataError naming it."""
    cases = []
    for path in iter_case_paths(ws):
        rel = str(path.relative_to(ws.root))
        data = load(read_text(path), rel)
        try:
            case = Case.from_dict(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise DataError(f"{rel}: not a valid case file ({exc})",
                            hint="see all problems with: cmtool validate") from None  # fmt: skip
        if statuses is None or case.state.get("status") in statuses:
            cases.append(case)
    return cases
