"""Problems found in user data: values, not exceptions, so one run reports all."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    code: str  # stable, e.g. CASE_SCHEMA; scripts may match on it
    message: str
    path: str = ""
    line: int | None = None
    case_id: str | None = None

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        case = f" [{self.case_id}]" if self.case_id else ""
        return f"{where}: {self.code} {self.message}{case}" if where else f"{self.code} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
