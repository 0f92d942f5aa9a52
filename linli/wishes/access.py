"""Who may see and do what with wishes, batches and claimers.

Community staff and street admins run wishes: approve, batch, publish, take gifts in,
send them to the door, release claims. Grid workers collect wishes for households of their
grids and record a household's thanks. Every role that works with people sees the wishes
of its area (a grid worker: their grids'). Volunteers, suppliers, residents and visitors
see only a published batch's public page, which carries no personal data.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.access import can_see_people
from linli.wishes.choices import BatchStatus, WishStatus
from linli.wishes.models import Claimer, Wish, WishBatch, WishClaim, token_digest

MANAGERS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})
COLLECTORS = MANAGERS | {Role.GRID_WORKER}


def can_manage_wishes(user: User) -> bool:
    """Approve, batch, publish, close, take gifts in, send them to the door, release claims."""
    return user.is_active and (user.is_superuser or user.role in MANAGERS)


def can_collect_wishes(user: User) -> bool:
    """Collect a wish for a household of the user's area, and record a household's thanks."""
    return user.is_active and (user.is_superuser or user.role in COLLECTORS)


def can_see_wishes(user: User) -> bool:
    return can_see_people(user)


def _not_found() -> Http404:
    return Http404(_("未找到，或不在您的管辖范围内"))


def visible_wishes(user: User) -> QuerySet[Wish]:
    """The wishes of households in the user's area (the scope filters by grid too)."""
    if not can_see_wishes(user):
        return Wish.objects.none()
    return Wish.objects.select_related("household", "batch", "claimer", "community")


def get_wish_for(user: User, pk: int | str) -> Wish:
    try:
        wish: Wish = visible_wishes(user).get(pk=pk)
    except (Wish.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return wish


def visible_batches(user: User) -> QuerySet[WishBatch]:
    if not can_see_wishes(user):
        return WishBatch.objects.none()
    return WishBatch.objects.select_related("community")


def get_batch_for(user: User, pk: int | str) -> WishBatch:
    try:
        batch: WishBatch = visible_batches(user).get(pk=pk)
    except (WishBatch.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return batch


def visible_claimers(user: User) -> QuerySet[Claimer]:
    """Claimers of the batches in the user's area: to those who run wishes."""
    if not can_manage_wishes(user):
        return Claimer.objects.none()
    return Claimer.objects.select_related("batch")


def get_claimer_for(user: User, pk: int | str) -> Claimer:
    try:
        claimer: Claimer = visible_claimers(user).get(pk=pk)
    except (Claimer.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return claimer


# Who may take each step on a wish, in one place for the pages, the API and the CLI.
# "manage": community staff and street admins; "collect": they and the grid workers.
WISH_STEPS: dict[str, frozenset[str]] = {
    "edit": frozenset({"collect"}),
    "approve": frozenset({"manage"}),
    "withdraw": frozenset({"manage"}),
    "release": frozenset({"manage"}),
    "receive": frozenset({"manage"}),
    "door": frozenset({"manage"}),
    "thank": frozenset({"collect"}),
}


def may_step(user: User, wish: Wish, step: str) -> bool:
    who = WISH_STEPS[step]
    if "manage" in who and can_manage_wishes(user):
        return True
    if "collect" in who and can_collect_wishes(user):
        return True
    # Whoever collected a wish may take it back before it is approved.
    return (
        step == "withdraw"
        and wish.status == WishStatus.COLLECTED
        and can_collect_wishes(user)
        and wish.created_by_id == user.pk
    )


# --- the public side: found by what the poster or the claim link says -------------------


def public_batch(code: str) -> WishBatch:
    """A batch whose claim page is public (published or closed); 404 for drafts and typos."""
    with scopes_disabled():
        batch: WishBatch | None = (
            WishBatch.objects.select_related("community")
            .filter(code=code, status__in=[BatchStatus.PUBLISHED, BatchStatus.CLOSED])
            .first()
        )
    if batch is None:
        raise Http404(_("没有找到这批微心愿，请核对二维码或链接"))
    return batch


def claim_by_token(token: str) -> WishClaim:
    """The claim a claimer's link names (their key to see and release it)."""
    with scopes_disabled():
        claim: WishClaim | None = (
            WishClaim.objects.select_related("wish", "claimer__batch__community")
            .filter(token_digest=token_digest(token))
            .first()
        )
    if claim is None:
        raise Http404(_("没有找到这条认领记录，请核对链接"))
    return claim
