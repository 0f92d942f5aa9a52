"""Who may triage text and who may change which rules."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.access import visible_communities
from linli.registry.models import Community
from linli.registry.scope import area_for
from linli.triage.models import TriageRule

RULE_EDITORS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})


def can_triage(user: User) -> bool:
    """Anyone who takes requests: operators, grid workers, staff, street admins."""
    return user.is_active and (user.is_superuser or user.works_with_people)


def can_edit_rules(user: User) -> bool:
    """A community's own rules: its staff (and the street's admins)."""
    return user.is_active and (user.is_superuser or user.role in RULE_EDITORS)


def can_edit_default_rules(user: User) -> bool:
    """The defaults every community starts with: the site operator only."""
    return user.is_active and user.is_superuser


def rules_community(user: User, code: str | None = None) -> Community | None:
    """Whose rules a page or call is about: the community named, or the user's only one;
    None = the defaults (for someone over several communities who names none)."""
    if code:
        found = visible_communities(user).filter(code=code).first()
        if found is None and code.isdigit():
            found = visible_communities(user).filter(pk=int(code)).first()
        if found is None:
            raise Http404(_("未找到社区，或不在您的管辖范围内"))
        return found
    communities = area_for(user).communities
    if communities is not None and len(communities) == 1:
        return visible_communities(user).filter(pk=communities[0]).first()
    return None


def visible_rules(user: User) -> QuerySet[TriageRule]:
    """The defaults and the rules of the communities in the user's area."""
    if not can_triage(user):
        return TriageRule.objects.none()
    communities = area_for(user).communities
    rules = TriageRule.objects.select_related("community", "updated_by")
    if communities is None:
        return rules
    return rules.filter(community__isnull=True) | rules.filter(community_id__in=communities)


def get_rule_for(user: User, pk: object) -> TriageRule:
    try:
        rule: TriageRule = visible_rules(user).get(pk=str(pk))
    except (TriageRule.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到，或不在您的管辖范围内")) from None
    return rule


def may_edit(user: User, rule: TriageRule) -> bool:
    if rule.community_id is None:
        return can_edit_default_rules(user)
    return can_edit_rules(user)
