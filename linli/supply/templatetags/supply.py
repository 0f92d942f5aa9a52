"""Template filters for money (fen) and weight (grams)."""

from __future__ import annotations

from django import template

from linli.lib.money import fen_to_yuan, grams_to_kg

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    return fen_to_yuan(fen or 0)


@register.filter
def kg(grams: int | None) -> str:
    return grams_to_kg(grams or 0)
