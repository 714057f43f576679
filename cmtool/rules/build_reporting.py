"""The ``reporting:`` section: who the reports are about and how they are labelled.

    reporting:
      firm: Example Consumer Co. Ltd     # named in every report's title block
      classification: Confidential       # printed in every page footer
      currency: GBP                      # ISO 4217: redress recorded without a currency

A regime may name its own currency (``regimes.cn_banking.currency: CNY``): a case
under it records redress in that currency unless the case says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cmtool.model.money import currency_code
from cmtool.rules.checker import Checker

KEYS = ("firm", "classification", "currency")


@dataclass(frozen=True)
class Reporting:
    firm: str = ""
    classification: str = ""
    currency: str = ""


def build_reporting(c: Checker, data: Mapping[str, Any]) -> Reporting:
    spec = c.mapping(data.get("reporting"), "reporting")
    for key in spec:
        if key not in KEYS:
            c.bad(f"reporting.{key}", f"unknown key (reporting has: {', '.join(KEYS)})")
    texts = {}
    for key in ("firm", "classification"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            c.bad(f"reporting.{key}", "must be text of at most 200 characters")
            value = None
        texts[key] = (value or "").strip()
    currency = spec.get("currency")
    code = c.convert("reporting.currency", currency_code, currency) if currency is not None else None
    return Reporting(texts["firm"], texts["classification"], code or "")


def regime_currency(c: Checker, spec: Mapping[str, Any], path: str) -> str | None:
    value = spec.get("currency")
    return None if value is None else c.convert(f"{path}.currency", currency_code, str(value))
