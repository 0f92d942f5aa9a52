"""Who may issue, see, revoke and verify medical exit passes."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.passes.models import MedicalPass, PassVerification
from linli.registry.scope import area_for

ISSUERS = frozenset(
    {Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.HOTLINE_OPERATOR, Role.STREET_ADMIN}
)
VERIFIERS = ISSUERS | {Role.CHECKPOINT_KEEPER}


def can_issue(user: User) -> bool:
    """Staff, operators and grid workers issue passes for residents in their area."""
    return user.is_active and (user.is_superuser or user.role in ISSUERS)


def can_verify(user: User) -> bool:
    """Checkpoint keepers (and anyone who may issue) check a pass at the gate."""
    return user.is_active and (user.is_superuser or user.role in VERIFIERS)


def verifier_communities(user: User) -> list[int] | None:
    """The communities whose passes the user's checks accept (None = all)."""
    return area_for(user).communities


def visible_passes(user: User) -> QuerySet[MedicalPass]:
    if not can_issue(user):
        return MedicalPass.objects.none()
    return MedicalPass.objects.select_related(
        "resident", "community", "issued_by", "revoked_by", "ticket"
    )


def get_pass_for(user: User, pk: object) -> MedicalPass:
    try:
        found: MedicalPass = visible_passes(user).get(pk=str(pk))
    except (MedicalPass.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到，或不在您的管辖范围内")) from None
    return found


def visible_verifications(user: User, medical_pass: MedicalPass) -> QuerySet[PassVerification]:
    return PassVerification.objects.filter(medical_pass=medical_pass).select_related("checked_by")
