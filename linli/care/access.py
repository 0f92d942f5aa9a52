"""Who may see and do what in 关爱回访.

Grid workers work their grids' residents (the scope limits them); community staff their
community, and they alone plan in bulk and set the community's rules. Street admins and
hotline operators may read plans, worklists and coverage. Volunteers, suppliers, keepers and
residents see nothing of it.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.care.models import Attempt, CarePlan, CheckIn, Escalation
from linli.registry.access import can_see_people
from linli.registry.models import CareTagAssignment

WORKERS = frozenset({Role.GRID_WORKER, Role.COMMUNITY_STAFF})
MANAGERS = frozenset({Role.COMMUNITY_STAFF})


def can_see_care(user: User) -> bool:
    """Plans, worklists and coverage of the user's area."""
    return can_see_people(user)


def can_work_care(user: User) -> bool:
    """Record outcomes, edit a resident's plan, ask for an extra check-in."""
    return user.is_active and (user.is_superuser or user.role in WORKERS)


def can_manage_care(user: User) -> bool:
    """Plans in bulk and the community's rules (retry minutes, escalation hour)."""
    return user.is_active and (user.is_superuser or user.role in MANAGERS)


def _not_found() -> Http404:
    return Http404(_("未找到，或不在您的管辖范围内"))


def visible_plans(user: User) -> QuerySet[CarePlan]:
    if not can_see_care(user):
        return CarePlan.objects.none()
    return CarePlan.objects.select_related("resident__household", "owner")


def get_plan_for(user: User, pk: int | str) -> CarePlan:
    try:
        plan: CarePlan = visible_plans(user).get(pk=pk)
    except (CarePlan.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return plan


def visible_check_ins(user: User) -> QuerySet[CheckIn]:
    if not can_see_care(user):
        return CheckIn.objects.none()
    return CheckIn.objects.select_related("resident__household", "owner", "grid", "plan")


def get_check_in_for(user: User, pk: int | str) -> CheckIn:
    try:
        check_in: CheckIn = visible_check_ins(user).get(pk=pk)
    except (CheckIn.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return check_in


def with_details(check_ins: QuerySet[CheckIn]) -> QuerySet[CheckIn]:
    """Tags, attempts and escalation steps in three queries, whatever the length."""
    tags = CareTagAssignment._base_manager.order_by("tag")
    attempts = Attempt._base_manager.select_related("by").order_by("at", "pk")
    steps = Escalation._base_manager.select_related("by", "task").order_by("at", "pk")
    return check_ins.select_related("resident__household", "owner", "grid").prefetch_related(
        Prefetch("resident__care_tags", queryset=tags, to_attr="tag_list"),
        Prefetch("attempts", queryset=attempts, to_attr="attempt_list"),
        Prefetch("escalations", queryset=steps, to_attr="step_list"),
    )


def possible_owners(community_ids: list[int] | None) -> QuerySet[User]:
    """Accounts that may own a plan in these communities (None: all): their grid workers
    and community staff, active."""
    from django.db.models import Q

    users = User.objects.filter(is_active=True)
    if community_ids is None:
        return users.filter(role__in=WORKERS).order_by("role", "pk")
    return (
        users.filter(
            Q(role=Role.GRID_WORKER, grids__community_id__in=community_ids)
            | Q(role=Role.COMMUNITY_STAFF, area__community_id__in=community_ids)
        )
        .distinct()
        .order_by("role", "pk")
    )
