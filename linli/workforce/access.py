"""Who may see and do what with volunteers, teams and tasks.

Staff and street admins manage volunteers and teams; they, grid workers and hotline
operators dispatch tasks. A volunteer sees their own record, their own tasks and the open
tasks of their community, and nothing of anyone else.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.workforce.choices import TaskStatus
from linli.workforce.models import Task, TaskStop, Team, Volunteer

MANAGERS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})
DISPATCHERS = MANAGERS | {Role.GRID_WORKER, Role.HOTLINE_OPERATOR}


def can_manage_volunteers(user: User) -> bool:
    """Verify volunteers, form teams, print the sign-up poster, change the rules."""
    return user.is_active and (user.is_superuser or user.role in MANAGERS)


def can_dispatch(user: User) -> bool:
    """Create tasks, assign them, cancel and reopen them."""
    return user.is_active and (user.is_superuser or user.role in DISPATCHERS)


def is_volunteer(user: User) -> bool:
    return user.is_active and user.role == Role.VOLUNTEER and volunteer_of(user) is not None


def volunteer_of(user: User) -> Volunteer | None:
    """The volunteer record behind a volunteer's account (None for everyone else)."""
    if user.role != Role.VOLUNTEER:
        return None
    volunteer: Volunteer | None = (
        Volunteer.objects.select_related("community", "user").filter(user=user).first()
    )
    return volunteer


def _not_found() -> Http404:
    return Http404(_("未找到，或不在您的管辖范围内"))


def visible_volunteers(user: User) -> QuerySet[Volunteer]:
    volunteers = Volunteer.objects.select_related(
        "community", "user", "compound", "building__compound"
    )
    if can_dispatch(user):
        return volunteers.all()
    if user.role == Role.VOLUNTEER:
        return volunteers.filter(user=user)
    return volunteers.none()


def get_volunteer_for(user: User, pk: int | str) -> Volunteer:
    try:
        volunteer: Volunteer = visible_volunteers(user).get(pk=pk)
    except (Volunteer.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return volunteer


def visible_teams(user: User) -> QuerySet[Team]:
    if can_dispatch(user):
        return Team.objects.select_related("leader", "community")
    if user.role == Role.VOLUNTEER:
        return Team.objects.filter(members=user).select_related("leader", "community")
    return Team.objects.none()


def get_team_for(user: User, pk: int | str) -> Team:
    try:
        team: Team = visible_teams(user).get(pk=pk)
    except (Team.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return team


def visible_tasks(user: User) -> QuerySet[Task]:
    """Dispatchers: every task in their area. A volunteer: theirs and the open ones."""
    tasks = Task.objects.select_related("community", "volunteer")
    if can_dispatch(user):
        return tasks.all()
    volunteer = volunteer_of(user)
    if volunteer is not None and user.is_active:
        return tasks.filter(Q(volunteer=volunteer) | Q(status=TaskStatus.OPEN))
    return tasks.none()


def get_task_for(user: User, pk: int | str) -> Task:
    try:
        task: Task = visible_tasks(user).get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return task


def works_on(user: User, task: Task) -> bool:
    """The volunteer the task is with (they accept, start, deliver, finish)."""
    return (
        task.volunteer_id is not None
        and task.volunteer is not None
        and (task.volunteer.user_id == user.pk)
    )


# Who may take each step on a task, in one place for the pages, the API and the CLI:
# "own" is the volunteer the task is with; "dispatch" is anyone who dispatches in the area
# (acting for a volunteer without a phone); "manage" is community staff and street admins.
# Taking an open task is for any volunteer of the community; the action checks eligibility.
TASK_STEPS: dict[str, frozenset[str]] = {
    "assign": frozenset({"dispatch"}),
    "accept": frozenset({"own", "dispatch"}),
    "release": frozenset({"own", "dispatch"}),
    "start": frozenset({"own", "dispatch"}),
    "finish": frozenset({"own", "dispatch"}),
    "fail": frozenset({"own", "dispatch"}),
    "deliver": frozenset({"own", "dispatch"}),
    "left_at_door": frozenset({"own", "dispatch"}),
    "stop_fail": frozenset({"own", "dispatch"}),
    "reopen": frozenset({"dispatch"}),
    "cancel": frozenset({"dispatch"}),
    "minutes": frozenset({"manage"}),
}


def may_step(user: User, task: Task, step: str) -> bool:
    who = TASK_STEPS[step]
    return (
        ("own" in who and works_on(user, task))
        or ("dispatch" in who and can_dispatch(user))
        or ("manage" in who and can_manage_volunteers(user))
    )


def can_see_doors(user: User, task: Task) -> bool:
    """Addresses on a task: to dispatchers, and to its volunteer while it is theirs."""
    return can_dispatch(user) or works_on(user, task)


def can_see_door_codes(user: User) -> bool:
    """The codes households hold: never to the volunteer who must be told them at the door."""
    return can_dispatch(user)


def get_stop_for(user: User, pk: int | str) -> TaskStop:
    try:
        stop: TaskStop = TaskStop.objects.select_related("task__volunteer").get(pk=pk)
    except (TaskStop.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    if not can_see_doors(user, stop.task):
        raise _not_found()
    return stop
