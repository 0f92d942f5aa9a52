"""Money is integer fen everywhere; these turn it into yuan for people and back."""

from __future__ import annotations

import re

_YUAN = re.compile(r"^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$")


def fen_to_yuan(fen: int) -> str:
    """12345 → '¥123.45'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def yuan_to_fen(text: str) -> int | None:
    """'123.4' → 12340; None for anything that is not yuan with at most two decimals."""
    match = _YUAN.match(text.replace("¥", "").replace(",", ""))
    if not match:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def grams_to_kg(grams: int) -> str:
    """12345 → '12.3 kg'."""
    return f"{grams / 1000:,.1f} kg"
