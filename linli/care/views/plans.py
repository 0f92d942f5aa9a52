"""Care plans: the list with search, one resident's plan (create, change, pause, resume, an
extra check-in), plans in bulk for a care tag, and the community's rules."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.care import actions
from linli.care.access import (
    can_manage_care,
    can_see_care,
    can_work_care,
    get_plan_for,
    possible_owners,
    visible_check_ins,
    visible_plans,
)
from linli.care.forms import BulkPlanForm, PlanFilterForm, PlanForm, ReasonForm, SettingsForm
from linli.care.models import CarePlan, CareSettings
from linli.lib.limits import limited
from linli.registry.access import (
    get_community_for,
    get_resident_for,
    request_user,
    require,
    visible_communities,
    visible_grids,
)
from linli.registry.forms import add_action_errors
from linli.registry.models import CareTagAssignment, Resident
from linli.registry.scope import area_for


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


def _owners(user: User) -> Any:
    return possible_owners(area_for(user).communities)


@require(can_see_care)
@limited("LINLI_SEARCH_RATE")
def plan_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = PlanFilterForm(request.GET, grids=visible_grids(user).order_by("community_id", "code"))
    plans = visible_plans(user)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            plans = plans.filter(resident__in=Resident.objects.search(data["q"]))
        if data["grid"]:
            plans = plans.filter(resident__household__grid=data["grid"])
        if data["status"]:
            plans = plans.filter(status=data["status"])
        if data["tag"]:
            tagged = CareTagAssignment._base_manager.filter(
                resident_id=OuterRef("resident_id"), tag=data["tag"]
            )
            plans = plans.filter(Exists(tagged))
    else:
        status, plans = 400, plans.none()
    plans = plans.order_by("resident__household__address", "resident_id")
    page = Paginator(plans, settings.LINLI_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_manage": can_manage_care(user),
    }
    template = "care/partials/plan_rows.html" if _is_htmx(request) else "care/plan_list.html"
    return render(request, template, context, status=status)


def _plan_input(data: dict[str, Any]) -> actions.PlanInput:
    return actions.PlanInput(
        kind=data["kind"],
        call_every_days=data["call_every_days"],
        visit_every_days=data["visit_every_days"],
        channel=data["channel"],
        owner=data["owner"],
        preferred_time=data["preferred_time"],
        starts_on=data["starts_on"],
        notes=data["notes"] or "",
    )


def _resident_context(user: User, resident: Resident, plan: CarePlan | None) -> dict[str, Any]:
    recent = visible_check_ins(user).filter(resident=resident).order_by("-due", "-pk")[:14]
    return {
        "resident": resident,
        "plan": plan,
        "recent": recent,
        "can_work": can_work_care(user),
        "pause_form": ReasonForm(),
        "request_form": ReasonForm(),
        "on_register": actions.on_register(resident),
    }


@require(can_see_care)
def resident_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """One resident's plan: shown to those who may see it, edited by those who work it."""
    user = request_user(request)
    resident = get_resident_for(user, pk)
    plan = CarePlan.objects.filter(resident=resident).select_related("owner").first()
    initial: dict[str, Any] = {}
    if plan is not None:
        initial = {
            "kind": plan.kind,
            "call_every_days": plan.call_every_days,
            "visit_every_days": plan.visit_every_days,
            "channel": plan.channel,
            "owner": plan.owner_id,
            "preferred_time": plan.preferred_time,
            "starts_on": plan.starts_on,
            "notes": plan.notes,
        }
    form = PlanForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        owners=_owners(user),
    )
    status = 200
    if request.method == "POST":
        if not can_work_care(user):
            return render(
                request,
                "care/resident_plan.html",
                {**_resident_context(user, resident, plan), "form": form},
                status=403,
            )
        status = 400
        if form.is_valid():
            try:
                plan = actions.plan_save(
                    actor=user, resident=resident, data=_plan_input(form.cleaned_data), plan=plan
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("%(name)s的关爱计划已保存") % {"name": resident.name})
                return redirect("care:resident_plan", pk=resident.pk)
    context = {**_resident_context(user, resident, plan), "form": form}
    return render(request, "care/resident_plan.html", context, status=status)


def _plan_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    user = request_user(request)
    plan = get_plan_for(user, pk)
    form = ReasonForm(request.POST)
    try:
        if step == "pause":
            if not form.is_valid():
                raise ValidationError({"reason": [_("请填写暂停原因")]})
            actions.plan_pause(actor=user, plan=plan, reason=form.cleaned_data["reason"])
            done = _("计划已暂停")
        else:
            actions.plan_resume(actor=user, plan=plan)
            done = _("计划已恢复")
    except ValidationError as e:
        plan.refresh_from_db()
        context = _resident_context(user, plan.resident, plan)
        context["form"] = PlanForm(owners=_owners(user))
        context["step_errors"] = e.messages
        return render(request, "care/resident_plan.html", context, status=400)
    messages.success(request, done)
    return redirect("care:resident_plan", pk=plan.resident_id)


@require(can_work_care)
@require_POST
def plan_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_step(request, pk, "pause")


@require(can_work_care)
@require_POST
def plan_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_step(request, pk, "resume")


@require(can_work_care)
@require_POST
def resident_request(request: HttpRequest, pk: int) -> HttpResponse:
    """An extra call today (加访) for the resident, onto their grid worker's worklist."""
    user = request_user(request)
    resident = get_resident_for(user, pk)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"reason": [_("请填写加访原因")]})
        actions.check_in_request(user, resident=resident, reason=form.cleaned_data["reason"])
    except ValidationError as e:
        plan = CarePlan.objects.filter(resident=resident).first()
        context = _resident_context(user, resident, plan)
        context["form"] = PlanForm(owners=_owners(user))
        context["step_errors"] = e.messages
        return render(request, "care/resident_plan.html", context, status=400)
    messages.success(request, _("已加入今天的回访名单"))
    return redirect("care:resident_plan", pk=resident.pk)


@require(can_manage_care)
def plan_bulk(request: HttpRequest) -> HttpResponse:
    """One step: the same plan for every register resident with the chosen tags."""
    user = request_user(request)
    communities = visible_communities(user).order_by("code")
    form = BulkPlanForm(
        request.POST if request.method == "POST" else None,
        owners=_owners(user),
        communities=communities,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = actions.plans_bulk_create(
                    actor=user,
                    community=form.cleaned_data["community"],
                    tags=form.cleaned_data["tags"],
                    data=_plan_input(form.cleaned_data),
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(
                    request,
                    _("已新建 %(created)d 份关爱计划，%(skipped)d 人已有计划未改动")
                    % {"created": result.created, "skipped": result.skipped},
                )
                return redirect("care:plan_list")
    return render(request, "care/plan_bulk.html", {"form": form}, status=status)


@require(can_manage_care)
def care_settings(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    community = get_community_for(user, code)
    current = CareSettings.for_community(community.pk)
    form = SettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"retry_minutes": current.retry_minutes, "escalate_at": current.escalate_at},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                actions.care_settings_set(actor=user, community=community, **form.cleaned_data)
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("%(name)s的回访设置已保存") % {"name": community})
                return redirect("care:settings", code=community.code)
    context = {"form": form, "community": community, "current": current, "now": timezone.now()}
    return render(request, "care/settings.html", context, status=status)
