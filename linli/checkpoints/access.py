"""Who may see and run which checkpoint.

Community staff and street admins set checkpoints up; a checkpoint keeper sees and runs
only the checkpoints they keep; grid workers and hotline operators may look.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints.models import (
    Checkpoint,
    CourierEntry,
    GoodsQuerySet,
    GoodsReceipt,
    Shift,
)
from linli.workforce.access import MANAGERS

VIEWERS = MANAGERS | {Role.GRID_WORKER, Role.HOTLINE_OPERATOR}


def can_manage_checkpoints(user: User) -> bool:
    """Merge gates, set rosters and keepers."""
    return user.is_active and (user.is_superuser or user.role in MANAGERS)


def visible_checkpoints(user: User) -> QuerySet[Checkpoint]:
    checkpoints = Checkpoint.objects.select_related("community", "compound", "team")
    if not user.is_active:
        return checkpoints.none()
    if user.is_superuser or user.role in VIEWERS:
        return checkpoints.all()
    if user.role == Role.CHECKPOINT_KEEPER:
        return checkpoints.filter(keepers=user)
    return checkpoints.none()


def get_checkpoint_for(user: User, pk: int | str) -> Checkpoint:
    try:
        checkpoint: Checkpoint = visible_checkpoints(user).get(pk=pk)
    except (Checkpoint.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到卡口，或不在您的管辖范围内")) from None
    return checkpoint


def can_keep(user: User, checkpoint: Checkpoint) -> bool:
    """Log couriers and receive, disinfect and release goods at this checkpoint."""
    if not user.is_active:
        return False
    if user.is_superuser or user.role in MANAGERS:
        return True
    return user.role == Role.CHECKPOINT_KEEPER and checkpoint.keepers.filter(pk=user.pk).exists()


def visible_goods(user: User) -> GoodsQuerySet:
    return GoodsReceipt.objects.filter(checkpoint__in=visible_checkpoints(user)).select_related(
        "checkpoint__compound", "checkpoint__community"
    )


def get_goods_for(user: User, pk: int | str) -> GoodsReceipt:
    try:
        goods: GoodsReceipt = visible_goods(user).get(pk=pk)
    except (GoodsReceipt.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到这批物资，或不在您的管辖范围内")) from None
    return goods


def visible_courier_entries(user: User) -> QuerySet[CourierEntry]:
    return CourierEntry.objects.filter(checkpoint__in=visible_checkpoints(user))


def visible_shifts(user: User) -> QuerySet[Shift]:
    return Shift.objects.filter(checkpoint__in=visible_checkpoints(user))


def get_shift_for(user: User, pk: int | str) -> Shift:
    try:
        shift: Shift = visible_shifts(user).select_related("checkpoint").get(pk=pk)
    except (Shift.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到班次，或不在您的管辖范围内")) from None
    return shift
