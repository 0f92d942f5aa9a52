"""Staff pages for the task board: the board, a new task (with the doors it covers), one task
with its timeline, doors and the steps staff take on it, and proof photos kept off MEDIA_URL."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.fields.files import FieldFile
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.registry.access import (
    can_see_people,
    get_unit_for,
    request_user,
    require,
    visible_buildings,
    visible_communities,
    visible_units,
)
from linli.registry.forms import add_action_errors
from linli.registry.models import Household, Unit
from linli.workforce import actions
from linli.workforce.access import (
    can_dispatch,
    can_manage_volunteers,
    can_see_door_codes,
    can_see_doors,
    get_stop_for,
    get_task_for,
    get_volunteer_for,
    may_step,
    visible_tasks,
)
from linli.workforce.choices import DOOR_KINDS, TaskStatus, VolunteerStatus
from linli.workforce.forms import (
    ACTIVE,
    ALL,
    AssignForm,
    MinutesForm,
    ReasonForm,
    TaskFilterForm,
    TaskForm,
)
from linli.workforce.models import Task, Volunteer

# The board reads top to bottom in the order work gets done.
STATUS_ORDER = [
    TaskStatus.OPEN,
    TaskStatus.ASSIGNED,
    TaskStatus.ACCEPTED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.FAILED,
    TaskStatus.DONE,
    TaskStatus.CANCELLED,
]
FINISHED = (TaskStatus.DONE, TaskStatus.CANCELLED)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


@require(can_dispatch)
def task_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = TaskFilterForm(request.GET)
    tasks = visible_tasks(user)
    if form.is_valid():
        data = form.cleaned_data
        status = data["status"] or ACTIVE
        if status == ACTIVE:
            tasks = tasks.exclude(status__in=FINISHED)
        elif status != ALL:
            tasks = tasks.filter(status=status)
        if data["kind"]:
            tasks = tasks.filter(kind=data["kind"])
        if data["day"]:
            # The day of its window (Shanghai), or the day it was posted when it has none.
            day = data["day"]
            tasks = tasks.filter(
                Q(starts_at__date=day) | Q(starts_at__isnull=True, created_at__date=day)
            )
    else:
        tasks = tasks.none()
    rank = Case(
        *(When(status=s, then=Value(i)) for i, s in enumerate(STATUS_ORDER)),
        output_field=IntegerField(),
    )
    tasks = tasks.annotate(rank=rank).order_by("rank", "starts_at", "pk")
    page = Paginator(tasks, settings.LINLI_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    if _is_htmx(request):
        return render(request, "workforce/partials/task_rows.html", context)
    return render(request, "workforce/task_list.html", context)


# --- new task ---------------------------------------------------------------------------


def _chosen_households(user: User, raw: list[str]) -> tuple[list[Household], str]:
    """The ticked households the user may see, or an error naming what is wrong."""
    pks = {int(value) for value in raw if value.isdigit()}
    if not can_see_people(user):
        return [], _("住户：您无权选择住户")
    found = list(
        Household.objects.filter(pk__in=pks)
        .select_related("unit__building__compound")
        .order_by("unit_id", "room_sort_key", "room")
    )
    if len(found) != len(pks) or len(pks) != len(raw):
        return found, _("住户：所选住户不存在，或不在您的管辖范围内")
    return found, ""


def _unit_households(user: User, unit: Unit | None) -> list[Household]:
    """The rooms of a unit the user may see (a grid worker: their grid's only, by scope)."""
    if unit is None or not can_see_people(user):
        return []
    return list(Household.objects.filter(unit=unit).order_by("room_sort_key", "room"))


def _task_form(request: HttpRequest, user: User) -> TaskForm:
    return TaskForm(
        request.POST or None,
        communities=visible_communities(user).order_by("code"),
        buildings=visible_buildings(user)
        .select_related("compound")
        .order_by("compound__community_id", "compound__name", "sort_key", "name"),
        units=visible_units(user)
        .select_related("building__compound")
        .order_by("building__compound__name", "building__sort_key", "sort_key"),
    )


@require(can_dispatch)
def task_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = _task_form(request, user)
    chosen, chosen_error = _chosen_households(user, request.POST.getlist("households"))
    unit = None
    unit_pk = request.POST.get("unit") or request.GET.get("unit")
    if unit_pk:
        unit = get_unit_for(user, unit_pk)
    status = 200
    if request.method == "POST" and "show_unit" not in request.POST:
        status = 400
        valid = form.is_valid()
        if chosen_error:
            form.add_error(None, chosen_error)
        elif valid:
            data = form.cleaned_data
            items = data["items"] or ""
            try:
                task = actions.task_create(
                    actor=user,
                    community=data["community"],
                    kind=data["kind"],
                    title=data["title"],
                    description=data["description"],
                    buildings=list(data["buildings"]),
                    place=data["place"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    required_skills=data["required_skills"],
                    size=data["size"],
                    stops=[actions.StopInput(household=h, items=items) for h in chosen],
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("任务“%(title)s”已发布") % {"title": task.title})
                return redirect("workforce:task_detail", pk=task.pk)
    context = {
        "form": form,
        "unit": unit,
        "unit_households": _unit_households(user, unit),
        "chosen": chosen,
        "chosen_ids": {h.pk for h in chosen},
        "door_kinds": sorted(DOOR_KINDS),
    }
    return render(request, "workforce/task_form.html", context, status=status)


@require(can_dispatch)
def task_households(request: HttpRequest) -> HttpResponse:
    """The rooms of the chosen unit to tick (HTMX), keeping what was ticked elsewhere."""
    user = request_user(request)
    unit_pk = request.GET.get("unit")
    unit = get_unit_for(user, unit_pk) if unit_pk else None
    chosen, _error = _chosen_households(user, request.GET.getlist("households"))
    context = {
        "unit": unit,
        "unit_households": _unit_households(user, unit),
        "chosen": chosen,
        "chosen_ids": {h.pk for h in chosen},
    }
    return render(request, "workforce/partials/task_households.html", context)


# --- one task ---------------------------------------------------------------------------


def _task_context(request: HttpRequest, task: Task, **forms: Form) -> dict[str, Any]:
    user = request_user(request)
    volunteers = (
        Volunteer.objects.filter(community_id=task.community_id)
        .exclude(status=VolunteerStatus.REJECTED)
        .select_related("community", "user")
        .order_by("name", "pk")
    )
    options = [(v, v.ineligibility(skills=list(task.required_skills))) for v in volunteers]
    options.sort(key=lambda option: bool(option[1]))  # eligible first, by name within
    context: dict[str, Any] = {
        "task": task,
        "stops": list(task.stops.select_related("done_by")),
        "events": list(task.events.select_related("actor")),
        "options": options,
        "show_codes": can_see_door_codes(user),
        "can_assign": task.status in (TaskStatus.OPEN, TaskStatus.ASSIGNED, TaskStatus.ACCEPTED),
        "can_release": task.status in (TaskStatus.ASSIGNED, TaskStatus.ACCEPTED),
        "can_cancel": task.can_become(TaskStatus.CANCELLED),
        "can_reopen": task.status == TaskStatus.FAILED,
        "can_set_minutes": task.status == TaskStatus.DONE and may_step(user, task, "minutes"),
        "assign_form": AssignForm(),
        "cancel_form": ReasonForm(prefix="cancel"),
        "reopen_form": ReasonForm(prefix="reopen"),
        "release_form": ReasonForm(prefix="release"),
        "minutes_form": MinutesForm(initial={"minutes": task.minutes}),
    }
    context.update(forms)
    return context


@require(can_dispatch)
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_task_for(request_user(request), pk)
    return render(request, "workforce/task_detail.html", _task_context(request, task))


Step = Callable[[User, Task, dict[str, Any]], Task]


def _step(
    request: HttpRequest, pk: int, form: Form, form_name: str, run: Step, done: str
) -> HttpResponse:
    """Parse the form, check access, run the action; the panel again (HTMX) or the page."""
    user = request_user(request)
    task = get_task_for(user, pk)
    if form.is_valid():
        try:
            run(user, task, form.cleaned_data)
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            if not _is_htmx(request):
                messages.success(request, done)
                return redirect("workforce:task_detail", pk=task.pk)
            context = _task_context(request, get_task_for(user, pk))
            context["saved"] = done
            return render(request, "workforce/partials/task_panel.html", context)
    # Refused: nothing was written; show the task as it is in the database.
    context = _task_context(request, get_task_for(user, pk), **{form_name: form})
    context["refused"] = _refusals(form, shown=context[SHOWN_BY[form_name]])
    template = (
        "workforce/partials/task_panel.html" if _is_htmx(request) else "workforce/task_detail.html"
    )
    return render(request, template, context, status=400)


# Which flag of the task context says the form is on the page (so its field errors show there).
SHOWN_BY = {
    "assign_form": "can_assign",
    "cancel_form": "can_cancel",
    "reopen_form": "can_reopen",
    "release_form": "can_release",
    "minutes_form": "can_set_minutes",
}


def _refusals(form: Form, *, shown: bool) -> list[str]:
    """What to say at the top of the panel: all of it when the form itself is not shown."""
    if shown:
        return [str(message) for message in form.non_field_errors()]
    return [str(message) for messages in form.errors.values() for message in messages]


def _assign(user: User, task: Task, data: dict[str, Any]) -> Task:
    volunteer = get_volunteer_for(user, data["volunteer"])
    return actions.task_assign(actor=user, task=task, volunteer=volunteer)


@require(can_dispatch)
@require_POST
def task_assign(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, AssignForm(request.POST), "assign_form", _assign, _("已指派"))


@require(can_dispatch)
@require_POST
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, task: Task, data: dict[str, Any]) -> Task:
        return actions.task_cancel(actor=user, task=task, reason=data["reason"])

    form = ReasonForm(request.POST, prefix="cancel")
    return _step(request, pk, form, "cancel_form", run, _("任务已取消"))


@require(can_dispatch)
@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, task: Task, data: dict[str, Any]) -> Task:
        return actions.task_reopen(actor=user, task=task, reason=data["reason"])

    form = ReasonForm(request.POST, prefix="reopen")
    return _step(request, pk, form, "reopen_form", run, _("任务已重新发布"))


@require(can_dispatch)
@require_POST
def task_release(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, task: Task, data: dict[str, Any]) -> Task:
        return actions.task_release(actor=user, task=task, reason=data["reason"])

    form = ReasonForm(request.POST, prefix="release")
    return _step(request, pk, form, "release_form", run, _("已撤下志愿者，任务重新待领取"))


@require(can_manage_volunteers)
@require_POST
def task_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, task: Task, data: dict[str, Any]) -> Task:
        return actions.task_set_minutes(actor=user, task=task, minutes=data["minutes"])

    form = MinutesForm(request.POST)
    return _step(request, pk, form, "minutes_form", run, _("服务时长已更新"))


# --- proof photos -----------------------------------------------------------------------

# Shown inline only as what they are; anything else downloads as plain bytes.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


def _stream(photo: FieldFile) -> FileResponse:
    if not photo:
        raise Http404(_("没有照片"))
    try:
        handle = photo.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("照片文件不存在")) from None
    content_type = mimetypes.guess_type(photo.name or "")[0] or ""
    inline = content_type in IMAGE_TYPES
    response = FileResponse(
        handle,
        content_type=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def task_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A task's proof photo: to dispatchers of its area and to its volunteer."""
    user = request_user(request)
    task = get_task_for(user, pk)
    if not can_see_doors(user, task):
        raise Http404(_("未找到，或不在您的管辖范围内"))
    return _stream(task.proof_photo)


@login_required
def stop_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A door's 'left at the door' photo: to dispatchers of its area and to its volunteer."""
    stop = get_stop_for(request_user(request), pk)
    return _stream(stop.photo)
