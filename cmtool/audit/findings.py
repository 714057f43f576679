"""A finding of ``audit verify``: what is wrong, in which commit, file and line."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    code: str  # stable, e.g. HAND_EDIT; scripts may match on it
    message: str
    commit: str = ""  # full commit id ("" for findings about refs, e.g. a seal)
    path: str = ""
    line: int | None = None
    case_id: str | None = None

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        parts = [self.commit[:12]] if self.commit else []
        if where:
            parts.append(where + ":")
        parts.append(f"{self.code} {self.message}")
        if self.case_id:
            parts.append(f"[{self.case_id}]")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
