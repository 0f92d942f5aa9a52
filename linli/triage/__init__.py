"""诉求分诊: Chinese free text → category, urgency and the words that triggered them.

`classify(text, community=None) -> Triage` is the interface other apps use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linli.triage.engine import Triage

if TYPE_CHECKING:
    from linli.registry.models import Community

__all__ = ["Triage", "classify"]


def classify(text: str, community: Community | None = None) -> Triage:
    """Triage `text` by the rules of `community` (the default rules when None)."""
    from linli.triage.rules import classify as classify_by_rules

    return classify_by_rules(text, community)
