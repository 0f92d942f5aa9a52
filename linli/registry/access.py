"""One helper per object kind: fetch it for a user, or 404 if it lies outside their area.

The scoped managers already limit rows to the active scope (see scope.py); these add the
role rules: who may see people at all, who may change them, who may import.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.models import (
    Building,
    Community,
    Grid,
    Household,
    ImportBatch,
    Resident,
    Street,
    Unit,
    UserArea,
)

P = ParamSpec("P")
R = TypeVar("R")

EDITORS = frozenset({Role.COMMUNITY_STAFF, Role.GRID_WORKER})
IMPORTERS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})
PLACE_EDITORS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})


def request_user(request: HttpRequest) -> User:
    """The signed-in user of a request that `require` (or login_required) has let through."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    return user


def can_see_people(user: User) -> bool:
    return user.is_active and user.works_with_people


def can_edit_people(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in EDITORS)


def can_edit_places(user: User) -> bool:
    """Buildings, units and grid coverage: community staff and street admins."""
    return user.is_active and (user.is_superuser or user.role in PLACE_EDITORS)


def can_import(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in IMPORTERS)


def require(check: Callable[[User], bool]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Page decorator: signed in, and `check(user)` holds, else 403."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            request = args[0]
            assert isinstance(request, HttpRequest)  # noqa: S101
            user = request.user
            if not isinstance(user, User) or not check(user):
                raise PermissionDenied(_("您的角色无权访问此页面"))
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[type-var]

    return decorator


def _one(queryset: QuerySet[Any], pk: object) -> Any:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到，或不在您的管辖范围内")) from None


def get_resident_for(user: User, pk: object) -> Resident:
    if not can_see_people(user):
        raise Http404(_("未找到，或不在您的管辖范围内"))
    resident: Resident = _one(Resident.objects.select_related("household"), pk)
    return resident


def get_household_for(user: User, pk: object) -> Household:
    if not can_see_people(user):
        raise Http404(_("未找到，或不在您的管辖范围内"))
    household: Household = _one(Household.objects.select_related("unit__building"), pk)
    return household


def visible_import_batches(user: User) -> QuerySet[ImportBatch]:
    """Imports into the communities of the user's area, for those who may import."""
    if not can_import(user):
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(community__in=visible_communities(user)).select_related(
        "community", "created_by", "undone_by"
    )


def get_import_batch_for(user: User, pk: object) -> ImportBatch:
    batch: ImportBatch = _one(visible_import_batches(user), pk)
    return batch


def visible_streets(user: User) -> QuerySet[Street]:
    if user.is_superuser:
        return Street.objects.all()
    if not can_see_people(user):
        return Street.objects.none()
    return Street.objects.filter(pk__in=Community.objects.values("street_id"))


def visible_communities(user: User) -> QuerySet[Community]:
    if not can_see_people(user):
        return Community.objects.none()
    return Community.objects.all()


def visible_grids(user: User) -> QuerySet[Grid]:
    if not can_see_people(user):
        return Grid.objects.none()
    grids = Grid.objects.all()
    if user.role == Role.GRID_WORKER:
        grids = grids.filter(workers=user)
    return grids


def visible_buildings(user: User) -> QuerySet[Building]:
    """Buildings with any part in the user's area (a grid worker: their grids' buildings)."""
    if not can_see_people(user):
        return Building.objects.none()
    buildings = Building.objects.all()
    if user.role == Role.GRID_WORKER:
        grids = visible_grids(user)
        buildings = buildings.filter(Q(grid__in=grids) | Q(units__grid__in=grids)).distinct()
    return buildings


def visible_units(user: User) -> QuerySet[Unit]:
    if not can_see_people(user):
        return Unit.objects.none()
    units = Unit.objects.all()
    if user.role == Role.GRID_WORKER:
        grids = visible_grids(user)
        units = units.filter(Q(grid__in=grids) | Q(grid__isnull=True, building__grid__in=grids))
    return units


def get_building_for(user: User, pk: object) -> Building:
    building: Building = _one(visible_buildings(user).select_related("compound"), pk)
    return building


def get_unit_for(user: User, pk: object) -> Unit:
    unit: Unit = _one(visible_units(user).select_related("building__compound"), pk)
    return unit


def get_community_for(user: User, code_or_pk: object) -> Community:
    communities = visible_communities(user)
    found = communities.filter(code=str(code_or_pk)).first()
    if found is None and str(code_or_pk).isdigit():
        found = communities.filter(pk=int(str(code_or_pk))).first()
    if found is None:
        raise Http404(_("未找到社区，或不在您的管辖范围内"))
    return found


def eligible_grid_workers(community: Community) -> QuerySet[User]:
    """Active grid-worker accounts that work in this community or have no area yet."""
    elsewhere = UserArea.objects.exclude(community=None).exclude(community_id=community.pk)
    return (
        User.objects.filter(role=Role.GRID_WORKER, is_active=True)
        .exclude(pk__in=elsewhere.values("user_id"))
        .order_by("username")
    )
