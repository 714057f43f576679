"""Filing and assigning: the actions that rules.yaml can drive."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.services import lifecycle
from cmtool.services.context import Context


def file_complaint(ctx: Context, fields: Mapping[str, Any]) -> Case:
    return lifecycle.file_case(ctx, fields)


def assign_case(ctx: Context, ref: str, to: str | None, auto: bool, reason: str | None) -> Case:
    if auto or not to:
        raise UsageError("name the new owner with --to")
    return lifecycle.assign(ctx, ref, to, reason)
