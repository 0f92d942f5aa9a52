"""Pinyin search keys for Chinese names: every reading, full and initials (曾 → zeng, ceng)."""

from __future__ import annotations

import itertools

from pypinyin import Style, pinyin

# A name of four characters with three readings each has 81 spellings; past this many
# the rarer combinations are dropped (the first readings are the common ones).
MAX_SPELLINGS = 32


def search_keys(name: str) -> str:
    """Space-separated lowercase keys a name can be found by: 'zengli zl cengli cl'."""
    name = name.strip()
    if not name:
        return ""
    readings = pinyin(name, style=Style.NORMAL, heteronym=True, errors="default")
    keys: list[str] = []
    for spelling in itertools.islice(itertools.product(*readings), MAX_SPELLINGS):
        full = "".join(spelling).lower()
        initials = "".join(s[0] for s in spelling if s).lower()
        for key in (full, initials):
            if key not in keys:
                keys.append(key)
    return " ".join(keys)
