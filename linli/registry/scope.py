"""Which places and people a user may see, and the scope that enforces it on every query.

The scoped managers in models.py refuse to run a query until `activate` (or the request
middleware, which calls it) has said whose data this is. A dimension set to None is not
filtered; an empty list matches nothing. So an account with no area sees nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django_scopes import scope, scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.models import Community, Grid, Resident, UserArea


@dataclass(frozen=True)
class Area:
    """Ids a user is limited to, per dimension; None means not limited on that dimension."""

    communities: list[int] | None
    grids: list[int] | None = None
    households: list[int] | None = None

    @property
    def is_everything(self) -> bool:
        return self.communities is None and self.grids is None and self.households is None

    def as_scope(self) -> dict[str, list[int] | None]:
        return {"community": self.communities, "grid": self.grids, "household": self.households}


NOTHING = Area(communities=[], grids=[], households=[])

# Volunteers and checkpoint keepers work in one community but never see its people.
FIELD_ROLES = frozenset({Role.VOLUNTEER, Role.CHECKPOINT_KEEPER})


def area_for(user: User | AnonymousUser) -> Area:
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    assert isinstance(user, User)  # noqa: S101
    if user.is_superuser:
        return Area(communities=None)
    with scopes_disabled():
        area = UserArea.objects.filter(user=user).first()
        if user.role == Role.STREET_ADMIN and area and area.street_id:
            ids = list(
                Community.objects.filter(street_id=area.street_id).values_list("pk", flat=True)
            )
            return Area(communities=ids)
        if (
            user.role in (Role.COMMUNITY_STAFF, Role.HOTLINE_OPERATOR)
            and area
            and area.community_id
        ):
            return Area(communities=[area.community_id])
        if user.role in FIELD_ROLES and area and area.community_id:
            # Places of their community (for addresses), and no household or resident.
            return Area(communities=[area.community_id], grids=[], households=[])
        if user.role == Role.GRID_WORKER:
            grids = list(Grid.objects.filter(workers=user).values_list("pk", "community_id"))
            return Area(communities=sorted({c for _, c in grids}), grids=[g for g, _ in grids])
        if user.role == Role.RESIDENT:
            resident = (
                Resident.objects.filter(user=user)
                .values_list("household_id", "household__community_id")
                .first()
            )
            if resident:
                return Area(communities=[resident[1]], households=[resident[0]])
    return NOTHING


@contextmanager
def activate(area: Area) -> Iterator[None]:
    with scope(**area.as_scope()):
        yield


@contextmanager
def activate_for(user: User | AnonymousUser) -> Iterator[Area]:
    area = area_for(user)
    with activate(area):
        yield area
