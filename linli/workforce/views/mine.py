"""A volunteer's phone pages: my tasks, the open tasks of my community, one task and its doors.

A volunteer sees tasks, not people: a door shows its address and items, never the
household's names, phones, care tags or the code the household holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.registry.access import request_user, require
from linli.registry.forms import add_action_errors
from linli.workforce import actions
from linli.workforce.access import (
    can_see_doors,
    get_stop_for,
    get_task_for,
    is_volunteer,
    visible_tasks,
    volunteer_of,
    works_on,
)
from linli.workforce.choices import StopStatus, TaskStatus
from linli.workforce.forms import (
    DoorCodeForm,
    DoorPhotoForm,
    FinishForm,
    NegativeTestForm,
    ReasonForm,
)
from linli.workforce.models import Task, TaskStop, Volunteer

RECENT_DONE = 10
BOARD_LIMIT = 100


def _me(request: HttpRequest) -> tuple[User, Volunteer]:
    user = request_user(request)
    volunteer = volunteer_of(user)
    if volunteer is None:  # `require(is_volunteer)` let them in; the record went meanwhile
        raise PermissionDenied(_("您还不是已登记的志愿者"))
    return user, volunteer


def _errors(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def _form_errors(form: Any) -> ValidationError:
    """A form's errors as the ValidationError an action would raise."""
    return ValidationError({name: list(errors) for name, errors in form.errors.items()})


# --- my page ----------------------------------------------------------------------------


def _mine_context(volunteer: Volunteer, test_form: NegativeTestForm) -> dict[str, Any]:
    now = timezone.now()
    held = Task.objects.of_volunteer(volunteer).order_by("starts_at", "pk")
    current = list(
        held.filter(status__in=[TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS])
    )
    groups = [
        (label, [t for t in current if t.status == status])
        for status, label in (
            (TaskStatus.IN_PROGRESS, _("进行中")),
            (TaskStatus.ASSIGNED, _("待我接受")),
            (TaskStatus.ACCEPTED, _("已接受，待出发")),
        )
    ]
    recent = list(
        held.filter(status__in=[TaskStatus.DONE, TaskStatus.FAILED]).order_by(
            "-finished_at", "-pk"
        )[:RECENT_DONE]
    )
    minutes = held.filter(status=TaskStatus.DONE).aggregate(total=Sum("minutes"))["total"] or 0
    board = [
        (task, volunteer.ineligibility(skills=list(task.required_skills), now=now))
        for task in Task.objects.open()
        .filter(community=volunteer.community)
        .order_by("starts_at", "pk")[:BOARD_LIMIT]
    ]
    return {
        "volunteer": volunteer,
        "groups": groups,
        "has_current": bool(current),
        "recent": recent,
        "hours": round(minutes / 60, 1),
        "board": board,
        "test_form": test_form,
        "own_reasons": volunteer.ineligibility(now=now),
    }


@require(is_volunteer)
def mine(request: HttpRequest) -> HttpResponse:
    _user, volunteer = _me(request)
    form = NegativeTestForm(initial={"last_negative_test_at": volunteer.last_negative_test_at})
    return render(request, "workforce/mine.html", _mine_context(volunteer, form))


@require(is_volunteer)
@require_POST
def mine_test(request: HttpRequest) -> HttpResponse:
    """The volunteer records their latest negative test (the community may require one)."""
    user, volunteer = _me(request)
    form = NegativeTestForm(request.POST)
    if form.is_valid():
        try:
            actions.volunteer_update(
                actor=user,
                volunteer=volunteer,
                last_negative_test_at=form.cleaned_data["last_negative_test_at"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("已更新核酸阴性时间"))
            return redirect("workforce:mine")
    volunteer.refresh_from_db()
    return render(request, "workforce/mine.html", _mine_context(volunteer, form), status=400)


# --- one task ---------------------------------------------------------------------------


def _task_context(
    user: User,
    volunteer: Volunteer,
    task: Task,
    *,
    errors: list[str] | None = None,
    stop_errors: dict[int, list[str]] | None = None,
) -> dict[str, Any]:
    mine = works_on(user, task)
    stops: list[TaskStop] = (
        list(task.stops.all()) if task.has_doors and can_see_doors(user, task) else []
    )
    stop_errors = stop_errors or {}
    return {
        "task": task,
        "mine": mine,
        "stops": stops,
        "doors": [(stop, stop_errors.get(stop.pk, [])) for stop in stops],
        "pending_doors": sum(1 for stop in stops if stop.status == StopStatus.PENDING),
        "errors": errors or [],
        "reasons": (
            volunteer.ineligibility(skills=list(task.required_skills))
            if task.status == TaskStatus.OPEN
            else []
        ),
        "doors_open": mine and task.status == TaskStatus.IN_PROGRESS,
    }


@require(is_volunteer)
def mine_task(request: HttpRequest, pk: int) -> HttpResponse:
    user, volunteer = _me(request)
    task = get_task_for(user, pk)
    return render(request, "workforce/mine_task.html", _task_context(user, volunteer, task))


def _take(request: HttpRequest, user: User, volunteer: Volunteer, task: Task) -> str:
    actions.task_take(volunteer=volunteer, task=task)
    return _("已领取任务")


def _accept(request: HttpRequest, user: User, volunteer: Volunteer, task: Task) -> str:
    actions.task_accept(actor=user, task=task)
    return _("已接受任务")


def _release(request: HttpRequest, user: User, volunteer: Volunteer, task: Task) -> str:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        raise _form_errors(form)
    actions.task_release(actor=user, task=task, reason=form.cleaned_data["reason"])
    return _("已退回任务")


def _start(request: HttpRequest, user: User, volunteer: Volunteer, task: Task) -> str:
    actions.task_start(actor=user, task=task)
    return _("已出发，住户已收到收货码短信")


def _finish(request: HttpRequest, user: User, volunteer: Volunteer, task: Task) -> str:
    form = FinishForm(request.POST, request.FILES)
    if not form.is_valid():
        raise _form_errors(form)
    actions.task_finish(
        actor=user, task=task, note=form.cleaned_data["note"], photo=form.cleaned_data["photo"]
    )
    return _("任务已完成，辛苦了")


def _fail(request: HttpRequest, user: User, volunteer: Volunteer, task: Task) -> str:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        raise _form_errors(form)
    actions.task_fail(actor=user, task=task, reason=form.cleaned_data["reason"])
    return _("已记录未完成原因")


TaskStep = Callable[[HttpRequest, User, Volunteer, Task], str]
TASK_STEPS: dict[str, TaskStep] = {
    "take": _take,
    "accept": _accept,
    "release": _release,
    "start": _start,
    "finish": _finish,
    "fail": _fail,
}


def _gone(request: HttpRequest, volunteer: Volunteer, pk: int) -> HttpResponse:
    """Pressed 领取 on a task someone else took a moment ago: say so, show the board again."""
    if not Task.objects.filter(pk=pk, community=volunteer.community).exists():
        raise Http404(_("未找到，或不在您的管辖范围内"))
    messages.error(request, _("这个任务已被其他志愿者领取"))
    form = NegativeTestForm(initial={"last_negative_test_at": volunteer.last_negative_test_at})
    return render(request, "workforce/mine.html", _mine_context(volunteer, form), status=400)


@require(is_volunteer)
@require_POST
def mine_task_act(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """领取 / 接受 / 退回 / 出发 / 完成 / 未完成. Only 领取 is for a task that is not theirs."""
    step = TASK_STEPS.get(verb)
    if step is None:
        raise Http404(_("没有这个操作"))
    user, volunteer = _me(request)
    if verb == "take" and not visible_tasks(user).filter(pk=pk).exists():
        return _gone(request, volunteer, pk)
    task = get_task_for(user, pk)
    if verb != "take" and not works_on(user, task):
        raise Http404(_("未找到，或不在您的管辖范围内"))
    try:
        done = step(request, user, volunteer, task)
    except ValidationError as e:
        task.refresh_from_db()
        context = _task_context(user, volunteer, task, errors=_errors(e))
        return render(request, "workforce/mine_task.html", context, status=400)
    messages.success(request, done)
    if verb == "release":
        return redirect("workforce:mine")
    return redirect("workforce:mine_task", pk=task.pk)


# --- doors ------------------------------------------------------------------------------


def _deliver(request: HttpRequest, user: User, stop: TaskStop) -> None:
    form = DoorCodeForm(request.POST)
    if not form.is_valid():
        raise _form_errors(form)
    actions.stop_deliver(actor=user, stop=stop, code=form.cleaned_data["code"])


def _left_at_door(request: HttpRequest, user: User, stop: TaskStop) -> None:
    form = DoorPhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        raise _form_errors(form)
    actions.stop_left_at_door(actor=user, stop=stop, photo=form.cleaned_data["photo"])


def _stop_fail(request: HttpRequest, user: User, stop: TaskStop) -> None:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        raise _form_errors(form)
    actions.stop_fail(actor=user, stop=stop, reason=form.cleaned_data["reason"])


STOP_STEPS: dict[str, Callable[[HttpRequest, User, TaskStop], None]] = {
    "deliver": _deliver,
    "left": _left_at_door,
    "fail": _stop_fail,
}


@require(is_volunteer)
@require_POST
def mine_stop_act(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """输入收货码 / 放门口 / 未送达 at one door. HTMX gets the door's row back (and the task's
    head, which changes when the last door closes the task); a plain form gets the page."""
    step = STOP_STEPS.get(verb)
    if step is None:
        raise Http404(_("没有这个操作"))
    user, volunteer = _me(request)
    stop = get_stop_for(user, pk)
    errors: list[str] = []
    try:
        step(request, user, stop)
    except ValidationError as e:
        errors = _errors(e)
    stop.refresh_from_db()
    task = Task.objects.select_related("volunteer").get(pk=stop.task_id)
    status = 400 if errors else 200
    if request.htmx:  # type: ignore[attr-defined]
        context = _task_context(user, volunteer, task)
        context.update({"stop": stop, "errors_here": errors, "oob": True})
        return render(request, "workforce/partials/mine_stop.html", context, status=status)
    if errors:
        context = _task_context(user, volunteer, task, stop_errors={stop.pk: errors})
        return render(request, "workforce/mine_task.html", context, status=400)
    messages.success(request, _("已记录：%(address)s") % {"address": stop.address})
    return redirect("workforce:mine_task", pk=task.pk)
