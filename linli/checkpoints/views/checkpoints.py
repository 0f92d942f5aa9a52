"""Checkpoint pages: the list per compound (gates merged so far), the form, and the roster."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints import actions
from linli.checkpoints.access import (
    VIEWERS,
    can_keep,
    can_manage_checkpoints,
    get_checkpoint_for,
    visible_checkpoints,
)
from linli.checkpoints.forms import CheckpointForm, DayForm, ShiftForm
from linli.checkpoints.models import Checkpoint, CourierEntry, GoodsReceipt, Shift
from linli.registry.access import request_user, require
from linli.registry.forms import add_action_errors
from linli.registry.models import Compound, Gate
from linli.workforce.choices import Skill, TaskStatus

ROSTER_DAYS = 7


def can_see_checkpoints(user: User) -> bool:
    """Staff, street admins, grid workers and hotline operators look; keepers run theirs."""
    return user.is_active and (
        user.is_superuser or user.role in VIEWERS or user.role == Role.CHECKPOINT_KEEPER
    )


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A local (Asia/Shanghai) day as an aware [start, end) range."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def task_url(pk: int) -> str:
    """The task board's page for a task (the board lives in workforce)."""
    try:
        return reverse("workforce:task_detail", args=[pk])
    except NoReverseMatch:
        return f"/tasks/{pk}/"


def require_keeper(user: User, checkpoint: Checkpoint) -> None:
    if not can_keep(user, checkpoint):
        raise PermissionDenied(_("您不是本卡口的值守人员，不能登记"))


@require(can_see_checkpoints)
def checkpoint_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    checkpoints = list(
        visible_checkpoints(user)
        .select_related("team")
        .prefetch_related("gate_links__gate", "buildings", "keepers")
        .order_by("compound__name", "name")
    )
    ids = [c.pk for c in checkpoints]
    start, end = day_bounds(timezone.localdate())
    held = {
        row["checkpoint_id"]: row
        for row in GoodsReceipt.objects.held()
        .filter(checkpoint_id__in=ids)
        .order_by()
        .values("checkpoint_id")
        .annotate(batches=Count("pk"), parcels=Sum("count"))
    }
    couriers = {
        row["checkpoint_id"]: row
        for row in CourierEntry.objects.filter(
            checkpoint_id__in=ids, arrived_at__gte=start, arrived_at__lt=end
        )
        .order_by()
        .values("checkpoint_id")
        .annotate(
            entries=Count("pk"),
            admitted=Count("pk", filter=Q(accepted=True)),
            admitted_parcels=Sum("parcels", filter=Q(accepted=True)),
        )
    }
    by_compound: dict[int, list[Checkpoint]] = defaultdict(list)
    for checkpoint in checkpoints:
        checkpoint.held = held.get(checkpoint.pk)  # type: ignore[attr-defined]
        checkpoint.couriers_today = couriers.get(checkpoint.pk)  # type: ignore[attr-defined]
        by_compound[checkpoint.compound_id].append(checkpoint)

    staff_view = user.is_superuser or user.role in VIEWERS
    if staff_view:
        # Every compound with gates, so staff see how far merging has come (17 gates → 8).
        compounds = Compound.objects.filter(
            Q(pk__in=by_compound.keys()) | Q(gates__isnull=False)
        ).distinct()
    else:
        compounds = Compound.objects.filter(pk__in=by_compound.keys())
    compounds = compounds.select_related("community").order_by("community__name", "name")
    free_gates: dict[int, list[Gate]] = defaultdict(list)
    gate_counts: dict[int, int] = defaultdict(int)
    if staff_view:
        for gate in Gate.objects.filter(compound__in=compounds).select_related("checkpoint_link"):
            gate_counts[gate.compound_id] += 1
            if not hasattr(gate, "checkpoint_link"):
                free_gates[gate.compound_id].append(gate)
    sections = [
        {
            "compound": compound,
            "checkpoints": by_compound.get(compound.pk, []),
            "free_gates": free_gates.get(compound.pk, []),
            "gate_count": gate_counts.get(compound.pk, 0),
        }
        for compound in compounds
    ]
    context = {
        "sections": sections,
        "staff_view": staff_view,
        "can_manage": can_manage_checkpoints(user),
    }
    return render(request, "checkpoints/checkpoint_list.html", context)


def _save(request: HttpRequest, compound: Compound, checkpoint: Checkpoint | None) -> HttpResponse:
    user = request_user(request)
    initial: dict[str, Any] = {}
    if checkpoint is not None:
        initial = {
            "name": checkpoint.name,
            "gates": [link.gate_id for link in checkpoint.gate_links.all()],
            "buildings": list(checkpoint.buildings.all()),
            "keepers": list(checkpoint.keepers.all()),
            "team": checkpoint.team,
            "notes": checkpoint.notes,
        }
    form = CheckpointForm(
        request.POST or None, initial=initial, compound=compound, checkpoint=checkpoint
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = actions.checkpoint_save(
                actor=user,
                compound=compound,
                name=data["name"],
                gates=list(data["gates"]),
                buildings=list(data["buildings"]),
                keepers=list(data["keepers"]),
                team=data["team"],
                notes=data["notes"],
                checkpoint=checkpoint,
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("卡口“%(name)s”已保存") % {"name": saved.name})
            return redirect("checkpoints:checkpoint_detail", pk=saved.pk)
    context = {"form": form, "compound": compound, "checkpoint": checkpoint}
    status = 400 if request.method == "POST" else 200
    return render(request, "checkpoints/checkpoint_form.html", context, status=status)


@require(can_manage_checkpoints)
def checkpoint_new(request: HttpRequest, pk: int) -> HttpResponse:
    compound = Compound.objects.select_related("community").filter(pk=pk).first()
    if compound is None:
        raise Http404(_("未找到小区，或不在您的管辖范围内"))
    return _save(request, compound, None)


@require(can_manage_checkpoints)
def checkpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    checkpoint = get_checkpoint_for(request_user(request), pk)
    return _save(request, checkpoint.compound, checkpoint)


def _roster(checkpoint: Checkpoint, first_day: dt.date) -> list[dict[str, Any]]:
    """The shifts of ROSTER_DAYS days from first_day, by day, with names and open places."""
    start, _end = day_bounds(first_day)
    end = start + dt.timedelta(days=ROSTER_DAYS)
    shifts = (
        Shift.objects.filter(checkpoint=checkpoint, starts_at__gte=start, starts_at__lt=end)
        .prefetch_related("tasks__volunteer")
        .order_by("starts_at")
    )
    days: dict[dt.date, list[dict[str, Any]]] = {
        first_day + dt.timedelta(days=n): [] for n in range(ROSTER_DAYS)
    }
    for shift in shifts:
        filled = shift.filled_tasks()
        open_tasks = [
            task
            for task in shift.tasks.all()
            if task.volunteer_id is None and task.status == TaskStatus.OPEN
        ]
        days.setdefault(timezone.localdate(shift.starts_at), []).append(
            {
                "shift": shift,
                "starts": timezone.localtime(shift.starts_at),
                "ends": timezone.localtime(shift.ends_at),
                "filled": filled,
                "gaps": shift.gaps,
                "open_tasks": [{"task": t, "url": task_url(t.pk)} for t in open_tasks],
            }
        )
    return [{"day": day, "rows": rows} for day, rows in days.items()]


def _detail(
    request: HttpRequest, checkpoint: Checkpoint, shift_form: ShiftForm, status: int = 200
) -> HttpResponse:
    user = request_user(request)
    day_form = DayForm(request.GET or None)
    first_day = day_form.day(timezone.localdate())
    checkpoint = (
        Checkpoint.objects.select_related("compound", "community", "team")
        .prefetch_related("gate_links__gate", "buildings", "keepers")
        .get(pk=checkpoint.pk)
    )
    context = {
        "checkpoint": checkpoint,
        "roster": _roster(checkpoint, first_day),
        "first_day": first_day,
        "last_day": first_day + dt.timedelta(days=ROSTER_DAYS - 1),
        "previous_day": first_day - dt.timedelta(days=ROSTER_DAYS),
        "next_day": first_day + dt.timedelta(days=ROSTER_DAYS),
        "day_form": day_form,
        "shift_form": shift_form,
        "skills": dict(Skill.choices),
        "can_manage": can_manage_checkpoints(user),
        "can_keep": can_keep(user, checkpoint),
        "printed_at": timezone.localtime(),
    }
    return render(request, "checkpoints/checkpoint_detail.html", context, status=status)


@require(can_see_checkpoints)
def checkpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    checkpoint = get_checkpoint_for(request_user(request), pk)
    now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    shift_form = ShiftForm(
        initial={"starts_at": now + dt.timedelta(hours=1), "ends_at": now + dt.timedelta(hours=5)}
    )
    return _detail(request, checkpoint, shift_form)


@require(can_manage_checkpoints)
@require_POST
def shift_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    checkpoint = get_checkpoint_for(user, pk)
    form = ShiftForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            shift = actions.shift_create(
                actor=user,
                checkpoint=checkpoint,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                needed=data["needed"],
                required_skills=data["required_skills"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(
                request,
                _("已添加班次，%(n)d 个值守岗位已发布到任务板") % {"n": shift.needed},
            )
            day = timezone.localdate(shift.starts_at)
            url = reverse("checkpoints:checkpoint_detail", args=[checkpoint.pk])
            return redirect(f"{url}?date={day.isoformat()}")
    return _detail(request, checkpoint, form, status=400)
