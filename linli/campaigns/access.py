"""Who may see and run campaigns.

Everyone who works with people sees the campaigns of their area (a street campaign: all in
the street's communities; a community campaign: that community's) and, through the
registry's scope, only the residents of their area: a grid worker their grids'. Community
staff run their community's campaigns, street admins their street's; grid workers and
staff record exemptions for residents they can see; dispatchers make sweep tasks.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.campaigns.models import (
    Campaign,
    CampaignRound,
    Exemption,
    SampleRecord,
    SamplingPoint,
)
from linli.registry.access import can_see_people
from linli.registry.models import Community
from linli.registry.scope import area_for
from linli.workforce.access import can_dispatch

MANAGERS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})
EXEMPTERS = MANAGERS | {Role.GRID_WORKER}


def can_see_campaigns(user: User) -> bool:
    return can_see_people(user)


def can_manage_campaigns(user: User) -> bool:
    """Create campaigns, rounds and points, and import sample records."""
    return user.is_active and (user.is_superuser or user.role in MANAGERS)


def can_exempt(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in EXEMPTERS)


def can_make_tasks(user: User) -> bool:
    return can_see_people(user) and can_dispatch(user)


def may_manage(user: User, campaign: Campaign) -> bool:
    """A street campaign is its street admins'; a community campaign its staff's too."""
    if not can_manage_campaigns(user):
        return False
    if user.is_superuser:
        return True
    if campaign.community_id is None:
        return user.role == Role.STREET_ADMIN
    return True  # visible_campaigns already limited it to the user's communities


def _not_found() -> Http404:
    return Http404(_("未找到，或不在您的管辖范围内"))


def visible_campaigns(user: User) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("street", "community", "created_by")
    if not can_see_campaigns(user):
        return campaigns.none()
    communities = area_for(user).communities
    if communities is None:
        return campaigns.all()
    with scopes_disabled():
        streets = set(
            Community.objects.filter(pk__in=communities).values_list("street_id", flat=True)
        )
    return campaigns.filter(
        Q(community_id__in=communities) | Q(community__isnull=True, street_id__in=streets)
    )


def get_campaign_for(user: User, pk: int | str) -> Campaign:
    try:
        campaign: Campaign = visible_campaigns(user).get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return campaign


def visible_rounds(user: User) -> QuerySet[CampaignRound]:
    return CampaignRound.objects.filter(campaign__in=visible_campaigns(user)).select_related(
        "campaign__street", "campaign__community"
    )


def get_round_for(user: User, pk: int | str) -> CampaignRound:
    try:
        found: CampaignRound = visible_rounds(user).get(pk=pk)
    except (CampaignRound.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return found


def get_point_for(user: User, pk: int | str) -> SamplingPoint:
    try:
        point: SamplingPoint = SamplingPoint.objects.select_related("campaign").get(
            pk=pk, campaign__in=visible_campaigns(user)
        )
    except (SamplingPoint.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return point


def visible_exemptions(user: User, campaign: Campaign) -> QuerySet[Exemption]:
    """The campaign's exemptions of residents in the user's area (the scope limits them)."""
    if not can_see_campaigns(user):
        return Exemption.objects.none()
    return Exemption.objects.filter(campaign=campaign).select_related(
        "resident__household", "created_by", "updated_by", "revoked_by"
    )


def get_exemption_for(user: User, pk: int | str) -> Exemption:
    try:
        exemption: Exemption = (
            Exemption.objects.filter(campaign__in=visible_campaigns(user))
            .select_related("campaign", "resident__household")
            .get(pk=pk)
        )
    except (Exemption.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    if not can_see_campaigns(user):
        raise _not_found()
    return exemption


def visible_records(user: User, round: CampaignRound) -> QuerySet[SampleRecord]:
    """Those who run the campaign see every record of the round, visitors included; the
    others the matched records of residents in their area (the scope)."""
    if not can_see_campaigns(user):
        return SampleRecord.objects.none()
    if may_manage(user, round.campaign):
        return SampleRecord._base_manager.filter(round=round)
    return SampleRecord.objects.filter(round=round)


def get_record_for(user: User, pk: int | str) -> SampleRecord:
    try:
        record: SampleRecord = SampleRecord._base_manager.select_related("round__campaign").get(
            pk=pk
        )
    except (SampleRecord.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    if not visible_rounds(user).filter(pk=record.round_id).exists():
        raise _not_found()
    if not visible_records(user, record.round).filter(pk=record.pk).exists():
        raise _not_found()
    return record
