"""Who may see and do what with meal aid.

Everyone who works with people (street admins, community staff, grid workers, hotline
operators) sees the eligible list, applications, enrolments and daily lists of their area
and may take an application. Community staff and street admins set the policy, run the
canteens, decide applications and enrol; they and grid workers record meals delivered or
missed and send out the delivery tasks. Volunteers see only the tasks (addresses and counts).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.meals.models import (
    Canteen,
    MealApplication,
    MealDelivery,
    MealEnrolment,
    MealPolicy,
)
from linli.registry.access import can_see_people, visible_communities

MANAGERS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})
RECORDERS = MANAGERS | {Role.GRID_WORKER}


def can_see_meals(user: User) -> bool:
    return can_see_people(user)


def can_manage_meals(user: User) -> bool:
    """Policy, canteens, decisions on applications, enrolments."""
    return user.is_active and (user.is_superuser or user.role in MANAGERS)


def can_record_meals(user: User) -> bool:
    """Delivered or missed, and the delivery tasks of a day."""
    return user.is_active and (user.is_superuser or user.role in RECORDERS)


def _not_found() -> Http404:
    return Http404(_("未找到，或不在您的管辖范围内"))


def visible_policies(user: User) -> QuerySet[MealPolicy]:
    if not can_see_meals(user):
        return MealPolicy.objects.none()
    return MealPolicy.objects.filter(community__in=visible_communities(user)).select_related(
        "community", "updated_by"
    )


def visible_canteens(user: User) -> QuerySet[Canteen]:
    if not can_see_meals(user):
        return Canteen.objects.none()
    return Canteen.objects.filter(community__in=visible_communities(user)).select_related(
        "community"
    )


def get_canteen_for(user: User, pk: int | str) -> Canteen:
    try:
        canteen: Canteen = visible_canteens(user).get(pk=pk)
    except (Canteen.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return canteen


def visible_applications(user: User) -> QuerySet[MealApplication]:
    if not can_see_meals(user):
        return MealApplication.objects.none()
    return MealApplication.objects.select_related("resident__household", "created_by", "decided_by")


def get_application_for(user: User, pk: int | str) -> MealApplication:
    try:
        application: MealApplication = visible_applications(user).get(pk=pk)
    except (MealApplication.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return application


def visible_enrolments(user: User) -> QuerySet[MealEnrolment]:
    if not can_see_meals(user):
        return MealEnrolment.objects.none()
    return MealEnrolment.objects.select_related("resident__household", "canteen")


def get_enrolment_for(user: User, pk: int | str) -> MealEnrolment:
    try:
        enrolment: MealEnrolment = visible_enrolments(user).get(pk=pk)
    except (MealEnrolment.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return enrolment


def visible_deliveries(user: User) -> QuerySet[MealDelivery]:
    if not can_see_meals(user):
        return MealDelivery.objects.none()
    return MealDelivery.objects.select_related("resident__household", "enrolment__canteen")
