"""Masking of personal data for screens, exports and the audit history."""

from __future__ import annotations


def mask_id_number(value: str) -> str:
    """110101199003071234 → 110101********1234: region and the last four stay readable."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """13812348000 → 138****8000."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_for_audit(value: str) -> str:
    """Audit history keeps only what tells two values apart, never a whole number."""
    if not value or value == "None":
        return value
    if len(value) >= 15:
        return mask_id_number(value)
    return mask_phone(value)


def mask_completely(value: str) -> str:
    """Free text about health: the history says that it changed, never what it says."""
    if not value or value == "None":
        return value
    return "******"


def mask_name(value: str) -> str:
    """张建国 → 张**: the surname stays, so a supplier can say "张先生" at the door."""
    value = (value or "").strip()
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)
