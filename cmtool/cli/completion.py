"""Shell completion of case IDs, people and categories, from the index as last
refreshed: a completion runs on every Tab press, so it never refreshes the index,
parses rules.yaml or runs git (it answers in the time Python takes to start)."""

from __future__ import annotations

from pathlib import Path

import typer

MAX_CANDIDATES = 200


def _workspace(ctx: typer.Context):
    from cmtool.store.workspace import find_workspace

    folder = ctx.params.get("workspace")
    return find_workspace(Path(folder) if folder else None)


def case_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    try:
        from cmtool.store.catalog import case_ids as every_id

        wanted = incomplete.upper()
        return [i for i in every_id(_workspace(ctx)) if i.startswith(wanted)][:MAX_CANDIDATES]
    except Exception:  # completion must never print a traceback into the shell
        return []


def _column_values(ctx: typer.Context, column: str, incomplete: str) -> list[str]:
    try:
        from cmtool.store.catalog import distinct_values

        return [v for v in distinct_values(_workspace(ctx), column) if v.startswith(incomplete)][
            :MAX_CANDIDATES
        ]
    except Exception:
        return []


def people(ctx: typer.Context, incomplete: str) -> list[str]:
    return _column_values(ctx, "assignee", incomplete)


def categories(ctx: typer.Context, incomplete: str) -> list[str]:
    return _column_values(ctx, "category", incomplete)
