"""classify(): a request's text → category, urgency and the words that triggered them, using the
community's effective rules (its own rules over the defaults), compiled once and cached."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import DatabaseError
from django.db.models import Count, Max

from linli.triage.defaults import DEFAULT_RULES
from linli.triage.engine import CompiledRule, Triage, split_keywords, triage_text

if TYPE_CHECKING:
    from linli.registry.models import Community

# Compiled rules are held in this process per community, with a fingerprint of the rows they
# came from (how many, and the latest change). Each classify() reads the fingerprint (one
# indexed aggregate query) and recompiles when it differs: an edit saved by any web process
# or worker is seen at once, and a rolled-back change never lingers.
Fingerprint = tuple[int, object]
_compiled: dict[int | None, tuple[Fingerprint, tuple[CompiledRule, ...]]] = {}


def builtin_rules() -> tuple[CompiledRule, ...]:
    """The defaults as shipped (used before the migration that seeds them has run)."""
    return tuple(
        CompiledRule(
            rule_id=None,
            keywords=split_keywords(rule.keywords),
            category=str(rule.category),
            urgency=str(rule.urgency),
            priority=rule.priority,
            negatable=rule.negatable,
        )
        for rule in DEFAULT_RULES
    )


def invalidate() -> None:
    """Drop this process's compiled rules (the fingerprint catches other processes' edits)."""
    _compiled.clear()


def compiled_rules(community_id: int | None) -> tuple[CompiledRule, ...]:
    from linli.triage.models import TriageRule

    try:
        rows = TriageRule.objects.for_community(community_id)
        found = rows.aggregate(n=Count("pk"), latest=Max("updated_at"))
        fingerprint: Fingerprint = (found["n"], found["latest"])
        held = _compiled.get(community_id)
        if held is not None and held[0] == fingerprint:
            return held[1]
        effective = TriageRule.objects.effective_for(community_id)
        compiled = tuple(rule.compiled(drop=drop) for rule, drop in effective)
    except DatabaseError:  # the table does not exist yet (migrating)
        return builtin_rules()
    if not compiled and not fingerprint[0]:
        compiled = builtin_rules()
    _compiled[community_id] = (fingerprint, compiled)
    return compiled


def classify(text: str, community: Community | None = None) -> Triage:
    """Triage `text` by the rules of `community` (the defaults when None)."""
    return triage_text(text, compiled_rules(community.pk if community is not None else None))
