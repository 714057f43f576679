"""Amounts of money with their ISO 4217 currency: ``800``, ``800 CNY``, ``CNY 800``."""

from __future__ import annotations

import math
import re

_AMOUNT = r"(\d+(?:\.\d{1,4})?)"
_CODE = r"([A-Za-z]{3})"
_MONEY = re.compile(rf"^\s*(?:{_AMOUNT}(?:\s*{_CODE})?|{_CODE}\s*{_AMOUNT})\s*$")


# Codes most workspaces use, checked without importing pycountry: its import costs
# about 50 ms (200 ms on a busy machine), which every action would pay, since
# every rules.yaml names a currency.
COMMON = frozenset(
    ["CNY", "GBP", "USD", "EUR", "HKD", "JPY", "SGD", "AUD", "CAD", "CHF", "TWD", "MOP", "KRW", "INR"]
)


def currency_code(text: str) -> str:
    """The ISO 4217 code ``text`` names (any case), or ValueError."""
    code = text.strip().upper()
    if code in COMMON:
        return code
    import pycountry

    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{text!r} is not an ISO 4217 currency code (e.g. GBP, USD, CNY, EUR)")
    return code


def parse_money(text: str | float | int) -> tuple[float, str | None]:
    """``(amount, currency or None)`` from ``800``, ``800.50 CNY`` or ``CNY 800``."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        amount = float(text)
        code = None
    else:
        match = _MONEY.match(str(text))
        if not match:
            raise ValueError(f"{text!r} is not an amount like 800, 45.50 GBP or CNY 800")
        amount = float(match[1] or match[4])
        raw_code = match[2] or match[3]
        code = currency_code(raw_code) if raw_code else None
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"{text!r}: an amount is a finite number, 0 or more")
    return amount, code
