"""The morning worklist (phone first): who to call now, who to try again later, who was
escalated, who is done; quick outcome buttons over HTMX with undo; the printable list; and
one check-in's page with its attempts and escalation steps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.care import actions
from linli.care.access import (
    can_manage_care,
    can_see_care,
    can_work_care,
    get_check_in_for,
    visible_check_ins,
    with_details,
)
from linli.care.choices import CheckInStatus, FollowUp
from linli.care.forms import ALL, MINE, OutcomeForm, WorklistFilterForm
from linli.care.models import UNDO_MINUTES, CheckIn
from linli.registry.access import request_user, require, visible_communities, visible_grids
from linli.registry.forms import add_action_errors
from linli.registry.models import Household
from linli.registry.scope import area_for

# Sections of the worklist, top to bottom.
NOW, LATER, ESCALATED, DONE = "now", "later", "escalated", "done"
SECTION_TITLES = {
    NOW: _("待回访"),
    LATER: _("稍后重拨"),
    ESCALATED: _("已升级（仍可记录联系结果）"),
    DONE: _("已完成"),
}


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


def section_of(check_in: CheckIn, now: dt.datetime) -> str:
    if check_in.status == CheckInStatus.ESCALATED:
        return ESCALATED
    if check_in.status in (CheckInStatus.FINE, CheckInStatus.NEEDS):
        return DONE
    if check_in.waiting_for_retry(now):
        return LATER
    return NOW


def decorate(user: User, check_ins: Sequence[CheckIn]) -> list[CheckIn]:
    """What a row shows beyond the check-in: the last attempt, whether it may be undone,
    and the resident's outcome on their previous check-in."""
    now = timezone.now()
    previous: dict[int, CheckIn] = {}
    if check_ins:
        earlier = (
            CheckIn._base_manager.filter(
                resident_id__in={c.resident_id for c in check_ins},
                due__lt=min(c.due for c in check_ins),
            )
            .exclude(status=CheckInStatus.PENDING)
            .order_by("resident_id", "-due", "-pk")
        )
        for row in earlier:
            previous.setdefault(row.resident_id, row)
    for check_in in check_ins:
        live = [a for a in getattr(check_in, "attempt_list", []) if a.undone_at is None]
        last = live[-1] if live else None
        check_in.last_attempt = last  # type: ignore[attr-defined]
        check_in.tries = len(live)  # type: ignore[attr-defined]
        check_in.undoable = (  # type: ignore[attr-defined]
            last is not None
            and not actions.undo_refusal(user, last, now)
            and not (check_in.ticket_id and check_in.follow_up == FollowUp.TICKET)
        )
        check_in.previous = previous.get(check_in.resident_id)  # type: ignore[attr-defined]
        check_in.section = section_of(check_in, now)  # type: ignore[attr-defined]
    return list(check_ins)


def proxy_order_url(user: User, household: Household) -> str:
    """The supply page to order for this household: its open round's order page when there
    is exactly one, else the list of rounds taking orders."""
    from linli.supply.access import can_order_for_others, visible_rounds
    from linli.supply.choices import RoundStatus

    if not can_order_for_others(user):
        return ""
    try:
        rounds = [
            r
            for r in visible_rounds(user).filter(status=RoundStatus.OPEN)[:20]
            if r.serves(household)
        ]
        if len(rounds) == 1:
            return reverse("supply:order_household", args=[rounds[0].pk, household.pk])
        return reverse("supply:order_rounds")
    except NoReverseMatch:
        return ""


def row_context(request: HttpRequest, check_in: CheckIn, **extra: Any) -> dict[str, Any]:
    user = request_user(request)
    fresh = with_details(visible_check_ins(user).filter(pk=check_in.pk)).first() or check_in
    decorate(user, [fresh])
    context: dict[str, Any] = {
        "c": fresh,
        "can_work": can_work_care(user),
        "undo_minutes": UNDO_MINUTES,
        "proxy_url": proxy_order_url(user, fresh.resident.household)
        if fresh.follow_up == FollowUp.PROXY_ORDER
        else "",
    }
    context.update(extra)
    return context


@require(can_see_care)
def worklist(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    grids = visible_grids(user).order_by("community_id", "code")
    form = WorklistFilterForm(request.GET, grids=grids)
    today = timezone.localdate()
    status = 200
    if form.is_valid():
        data = form.cleaned_data
    else:
        status, data = 400, {}
    day: dt.date = data.get("day") or today
    who = data.get("who") or (MINE if user.role == Role.GRID_WORKER else ALL)
    if day == today:
        # The morning job may not have run (or a plan was made since): make today's now.
        actions.worklist_generate(today, communities=area_for(user).communities)
    check_ins = visible_check_ins(user).filter(due=day)
    if who == MINE:
        check_ins = check_ins.filter(Q(owner=user) | Q(owner__isnull=True))
    if data.get("grid"):
        check_ins = check_ins.filter(grid=data["grid"])
    if data.get("status"):
        check_ins = check_ins.filter(status=data["status"])
    if status == 400:
        check_ins = check_ins.none()
    rows = decorate(user, list(with_details(check_ins)))
    now = timezone.now()
    order = [NOW, LATER, ESCALATED, DONE]
    rows.sort(
        key=lambda c: (
            order.index(c.section),  # type: ignore[attr-defined]
            c.retry_at or now if c.section == LATER else now,  # type: ignore[attr-defined]
            c.preferred_time or dt.time(23, 59),
            c.resident.household.address,
        )
    )
    sections = [
        (key, SECTION_TITLES[key], [c for c in rows if c.section == key])  # type: ignore[attr-defined]
        for key in order
    ]
    done = sum(1 for c in rows if c.status in (CheckInStatus.FINE, CheckInStatus.NEEDS))
    query = request.GET.copy()
    query.pop("print", None)
    context = {
        "form": form,
        "day": day,
        "today": today,
        "who": who,
        "sections": sections,
        "total": len(rows),
        "done": done,
        "can_work": can_work_care(user),
        "settings_communities": visible_communities(user).order_by("code")
        if can_manage_care(user)
        else [],
        "undo_minutes": UNDO_MINUTES,
        "query": query.urlencode(),
        "printed_at": timezone.now(),
    }
    if request.GET.get("print"):
        return render(request, "care/worklist_print.html", context, status=status)
    return render(request, "care/worklist.html", context, status=status)


def _row_or_page(
    request: HttpRequest,
    check_in: CheckIn,
    *,
    ok: str,
    form: OutcomeForm | None = None,
    errors: Sequence[str] = (),
) -> HttpResponse:
    """After a step: the row (HTMX), or the check-in's page; 400 with the reasons when
    nothing was written."""
    failed = bool(errors) or (form is not None and bool(form.errors))
    extra: dict[str, Any] = {"form": form, "errors": errors, "saved": "" if failed else ok}
    if _is_htmx(request):
        context = row_context(request, check_in, **extra)
        status = 400 if failed else 200
        response = render(request, "care/partials/check_in_row.html", context, status=status)
        if not failed:
            response["HX-Trigger"] = "worklist-changed"  # the page's counter refreshes
        return response
    if failed:
        context = detail_context(request, check_in)
        context.update({k: v for k, v in extra.items() if v})
        return render(request, "care/check_in_detail.html", context, status=400)
    messages.success(request, ok)
    return redirect("care:check_in_detail", pk=check_in.pk)


@require(can_work_care)
@require_POST
def check_in_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    check_in = get_check_in_for(user, pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.check_in_record(
                actor=user,
                check_in=check_in,
                outcome=data["outcome"],
                channel=data["channel"],
                note=data["note"],
                needs=data["needs"],
                follow_up=data["follow_up"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
    check_in.refresh_from_db()
    ok = _("已记录：%(s)s") % {"s": check_in.get_status_display()}
    return _row_or_page(request, check_in, ok=ok, form=form)


@require(can_work_care)
@require_POST
def check_in_undo(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    check_in = get_check_in_for(user, pk)
    try:
        actions.check_in_undo(actor=user, check_in=check_in)
    except ValidationError as e:
        return _row_or_page(request, check_in, ok="", errors=e.messages)
    check_in.refresh_from_db()
    return _row_or_page(request, check_in, ok=_("已撤销上一次记录"))


@require(can_work_care)
@require_POST
def check_in_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    """Escalate now, before the community's hour."""
    user = request_user(request)
    check_in = get_check_in_for(user, pk)
    try:
        actions.check_in_escalate(actor=user, check_in=check_in)
    except ValidationError as e:
        return _row_or_page(request, check_in, ok="", errors=e.messages)
    check_in.refresh_from_db()
    return _row_or_page(request, check_in, ok=_("已升级：已派上门探视任务，并通知紧急联系人和社区"))


@require(can_see_care)
@require_POST
def check_in_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The full number to dial (a tel: link), recorded in the resident's audit history."""
    user = request_user(request)
    check_in = get_check_in_for(user, pk)
    phone = actions.check_in_reveal_phone(actor=user, check_in=check_in)
    return render(request, "care/partials/phone.html", {"c": check_in, "phone": phone})


def detail_context(request: HttpRequest, check_in: CheckIn) -> dict[str, Any]:
    context = row_context(request, check_in)
    context["form"] = OutcomeForm()
    return context


@require(can_see_care)
def check_in_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check_in = get_check_in_for(request_user(request), pk)
    return render(request, "care/check_in_detail.html", detail_context(request, check_in))
