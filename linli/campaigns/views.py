"""Campaign pages: campaigns and rounds, the import and its report, live completion, the
sweep list (page, PDF, tasks) with an audited phone reveal, door service, exemptions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.campaigns import actions, documents, reconcile
from linli.campaigns.access import (
    can_exempt,
    can_make_tasks,
    can_manage_campaigns,
    can_see_campaigns,
    get_campaign_for,
    get_exemption_for,
    get_point_for,
    get_record_for,
    get_round_for,
    may_manage,
    visible_campaigns,
    visible_exemptions,
    visible_records,
)
from linli.campaigns.exports import mapping_label
from linli.campaigns.forms import (
    CampaignForm,
    ExemptionForm,
    ImportForm,
    LinkForm,
    PointForm,
    RevealForm,
    RoundForm,
)
from linli.campaigns.models import Campaign, CampaignRound, RoundTask, SampleImport
from linli.lib.pdf import pdf_response
from linli.registry.access import (
    get_resident_for,
    request_user,
    require,
    visible_buildings,
    visible_communities,
)
from linli.registry.forms import add_action_errors

SWEEP_PAGE = 200


def _htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


def _manage(user: User, campaign: Campaign) -> None:
    if not may_manage(user, campaign):
        raise PermissionDenied(_("您的角色无权管理此活动"))


# --- campaigns --------------------------------------------------------------------------


def _campaign_form(request: HttpRequest, user: User) -> CampaignForm:
    return CampaignForm(
        request.POST or None,
        communities=visible_communities(user).order_by("code"),
        street_wide=user.is_superuser or user.role == Role.STREET_ADMIN,
    )


@require(can_see_campaigns)
def campaign_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    campaigns = visible_campaigns(user).prefetch_related(
        Prefetch("rounds", queryset=CampaignRound.objects.order_by("-number"))
    )
    context = {
        "campaigns": campaigns,
        "can_manage": can_manage_campaigns(user),
        "form": _campaign_form(request, user) if can_manage_campaigns(user) else None,
    }
    return render(request, "campaigns/campaign_list.html", context)


@require(can_manage_campaigns)
@require_POST
def campaign_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = _campaign_form(request, user)
    if form.is_valid():
        data = form.cleaned_data
        community = data["community"]
        street = community.street if community else _street_of(user)
        if street is None:
            form.add_error("community", _("请选择社区"))
        else:
            try:
                campaign = actions.campaign_create(
                    actor=user,
                    street=street,
                    community=community,
                    name=data["name"],
                    kind=data["kind"],
                    notes=data["notes"],
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("已创建活动"))
                return redirect("campaigns:campaign_detail", campaign.pk)
    context = {"campaigns": visible_campaigns(user), "can_manage": True, "form": form}
    return render(request, "campaigns/campaign_list.html", context, status=400)


def _street_of(user: User) -> Any:
    from linli.registry.models import UserArea

    area = UserArea.objects.filter(user=user).select_related("street").first()
    return area.street if area and area.street_id else None


def _campaign_context(request: HttpRequest, user: User, campaign: Campaign) -> dict[str, Any]:
    managing = may_manage(user, campaign)
    buildings = visible_buildings(user).select_related("compound", "grid")
    return {
        "campaign": campaign,
        "rounds": campaign.rounds.order_by("-number"),
        "points": campaign.points.prefetch_related("buildings__compound"),
        "exemptions": visible_exemptions(user, campaign)[:200],
        "can_manage": managing,
        "can_exempt": can_exempt(user),
        "round_form": RoundForm(initial={"date": timezone.localdate()}) if managing else None,
        "point_form": PointForm(buildings=buildings) if managing else None,
        "mapping": mapping_label(campaign.column_mapping),
    }


@require(can_see_campaigns)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    campaign = get_campaign_for(user, pk)
    return render(
        request, "campaigns/campaign_detail.html", _campaign_context(request, user, campaign)
    )


@require(can_manage_campaigns)
@require_POST
def round_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    campaign = get_campaign_for(user, pk)
    _manage(user, campaign)
    form = RoundForm(request.POST)
    if form.is_valid():
        try:
            new = actions.round_create(actor=user, campaign=campaign, **form.cleaned_data)
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("已添加第%(n)d轮") % {"n": new.number})
            return redirect("campaigns:round_detail", new.pk)
    context = _campaign_context(request, user, campaign) | {"round_form": form}
    return render(request, "campaigns/campaign_detail.html", context, status=400)


@require(can_manage_campaigns)
@require_POST
def point_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    campaign = get_campaign_for(user, pk)
    _manage(user, campaign)
    form = PointForm(request.POST, buildings=visible_buildings(user).select_related("compound"))
    if form.is_valid():
        try:
            actions.point_save(actor=user, campaign=campaign, **form.cleaned_data)
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("已添加采样点"))
            return redirect("campaigns:campaign_detail", campaign.pk)
    context = _campaign_context(request, user, campaign) | {"point_form": form}
    return render(request, "campaigns/campaign_detail.html", context, status=400)


@require(can_manage_campaigns)
def point_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a sampling point: a wrong name, new hours, other buildings."""
    user = request_user(request)
    point = get_point_for(user, pk)
    campaign = point.campaign
    _manage(user, campaign)
    buildings = visible_buildings(user).select_related("compound")
    initial = {
        "name": point.name,
        "location": point.location,
        "opens_at": point.opens_at,
        "closes_at": point.closes_at,
        "buildings": list(point.buildings.all()),
    }
    form = PointForm(request.POST or None, initial=initial, buildings=buildings)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.point_save(actor=user, campaign=campaign, point=point, **form.cleaned_data)
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("已保存采样点 %(name)s") % {"name": point.name})
                return redirect("campaigns:campaign_detail", campaign.pk)
        status = 400
    context = {"campaign": campaign, "point": point, "form": form}
    return render(request, "campaigns/point_edit.html", context, status=status)


# --- exemptions -------------------------------------------------------------------------


@require(can_exempt)
def exemption_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    campaign = get_campaign_for(user, pk)
    raw = request.POST.get("resident") if request.method == "POST" else request.GET.get("resident")
    resident = get_resident_for(user, raw)
    form = ExemptionForm(
        request.POST or None,
        initial={"resident": resident.pk, "starts_on": timezone.localdate()},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.exemption_save(
                    actor=user,
                    campaign=campaign,
                    resident=resident,
                    reason=data["reason"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    note=data["note"],
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("已登记免检：%(name)s") % {"name": resident.name})
                return redirect("campaigns:campaign_detail", campaign.pk)
        status = 400
    context = {"campaign": campaign, "resident": resident, "form": form, "exemption": None}
    return render(request, "campaigns/exemption_form.html", context, status=status)


@require(can_exempt)
def exemption_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    exemption = get_exemption_for(user, pk)
    resident = get_resident_for(user, exemption.resident_id)
    initial = {
        "resident": resident.pk,
        "reason": exemption.reason,
        "starts_on": exemption.starts_on,
        "ends_on": exemption.ends_on,
        "note": exemption.note,
    }
    form = ExemptionForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.exemption_save(
                    actor=user,
                    campaign=exemption.campaign,
                    resident=resident,
                    reason=data["reason"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    note=data["note"],
                    exemption=exemption,
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("已修改免检"))
                return redirect("campaigns:campaign_detail", exemption.campaign_id)
        status = 400
    context = {
        "campaign": exemption.campaign,
        "resident": resident,
        "form": form,
        "exemption": exemption,
    }
    return render(request, "campaigns/exemption_form.html", context, status=status)


@require(can_exempt)
@require_POST
def exemption_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    exemption = get_exemption_for(user, pk)
    try:
        actions.exemption_revoke(actor=user, exemption=exemption)
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
        return redirect("campaigns:campaign_detail", exemption.campaign_id)
    messages.success(request, _("已撤销免检，该居民重新计入应检人数"))
    return redirect("campaigns:campaign_detail", exemption.campaign_id)


# --- a round ----------------------------------------------------------------------------


def _round_context(user: User, round: CampaignRound, by: str) -> dict[str, Any]:
    records = visible_records(user, round)
    rows = reconcile.completion(round, by)
    return {
        "round": round,
        "campaign": round.campaign,
        "figures": reconcile.round_figures(round, records, rows),
        "rows": rows,
        "by": by,
        "now": timezone.now(),
    }


def _by(request: HttpRequest) -> str:
    by = request.GET.get("by", "building")
    return by if by in reconcile.GROUPS else "building"


@require(can_see_campaigns)
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    managing = may_manage(user, round.campaign)
    context = _round_context(user, round, _by(request)) | {
        "can_manage": managing,
        "can_make_tasks": can_make_tasks(user),
        "import_form": ImportForm(mapping=round.campaign.column_mapping) if managing else None,
        "imports": round.imports.select_related("created_by")[:20] if managing else [],
        "mapping": mapping_label(round.campaign.column_mapping),
        "tasks": RoundTask.objects.filter(round=round).select_related("task", "building__compound"),
    }
    return render(request, "campaigns/round_detail.html", context)


@require(can_see_campaigns)
def round_completion(request: HttpRequest, pk: int) -> HttpResponse:
    """The completion table alone, for the page's HTMX refresh every 30 seconds."""
    user = request_user(request)
    round = get_round_for(user, pk)
    return render(
        request, "campaigns/partials/completion.html", _round_context(user, round, _by(request))
    )


@require(can_manage_campaigns)
@require_POST
def round_import(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    _manage(user, round.campaign)
    form = ImportForm(request.POST, request.FILES, mapping=round.campaign.column_mapping)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = actions.records_import(
                actor=user,
                round=round,
                data=upload.read(),
                filename=upload.name or "",
                mapping=form.mapping(),
            )
        except ValidationError as e:
            errors = {
                (f"map_{name}" if f"map_{name}" in form.fields else name): msgs
                for name, msgs in e.message_dict.items()
            }
            add_action_errors(form, ValidationError(errors))
        else:
            return redirect("campaigns:import_detail", batch.pk)
    context = _round_context(user, round, "building") | {
        "can_manage": True,
        "can_make_tasks": can_make_tasks(user),
        "import_form": form,
        "imports": round.imports.select_related("created_by")[:20],
        "mapping": mapping_label(round.campaign.column_mapping),
        "tasks": RoundTask.objects.filter(round=round).select_related("task", "building__compound"),
    }
    return render(request, "campaigns/round_detail.html", context, status=400)


@require(can_manage_campaigns)
@require_POST
def round_rematch(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    _manage(user, round.campaign)
    changed = actions.records_rematch(actor=user, round=round)
    messages.success(request, _("已重新匹配，%(n)d 条记录有变化") % {"n": changed})
    return redirect("campaigns:round_detail", round.pk)


@require(can_manage_campaigns)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    try:
        batch = SampleImport.objects.select_related("round__campaign", "created_by").get(pk=pk)
    except (SampleImport.DoesNotExist, ValueError):
        raise Http404(_("未找到，或不在您的管辖范围内")) from None
    round = get_round_for(user, batch.round_id)
    _manage(user, round.campaign)
    records = visible_records(user, round).filter(batch=batch)
    context = {
        "batch": batch,
        "round": round,
        "unmatched": records.filter(resident__isnull=True).select_related("suggestion__household")[
            :500
        ],
        "duplicates": records.filter(duplicate=True).select_related("resident__household")[:500],
    }
    return render(request, "campaigns/import_detail.html", context)


@require(can_manage_campaigns)
@require_POST
def record_link(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    record = get_record_for(user, pk)
    _manage(user, record.round.campaign)
    form = LinkForm(request.POST)
    resident = None
    if form.is_valid() and form.cleaned_data["resident"]:
        resident = get_resident_for(user, form.cleaned_data["resident"])
    try:
        actions.record_link(actor=user, record=record, resident=resident)
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
    else:
        messages.success(request, _("已人工核对该记录"))
    return redirect("campaigns:import_detail", record.batch_id)


# --- sweep list and door service ----------------------------------------------------------


def _sweep_page(request: HttpRequest, round: CampaignRound) -> Any:
    missing = reconcile.missing_residents(round)
    return Paginator(missing, SWEEP_PAGE).get_page(request.GET.get("page"))


@require(can_see_campaigns)
def sweep(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    page = _sweep_page(request, round)
    context = {
        "round": round,
        "campaign": round.campaign,
        "page": page,
        "rows": documents.with_door_reasons(list(page), round),
        "can_make_tasks": can_make_tasks(user),
        "can_exempt": can_exempt(user),
        "reveal_form": RevealForm(),
    }
    return render(request, "campaigns/sweep.html", context)


@require(can_see_campaigns)
def sweep_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    pdf = documents.sweep_pdf(request, user, round)
    return pdf_response(pdf, documents.sweep_pdf_name(round))


@require(can_make_tasks)
@require_POST
def sweep_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    missing = list(reconcile.missing_residents(round))
    tasks = actions.sweep_tasks_create(actor=user, round=round, missing=missing)
    messages.success(request, _("已发布 %(n)d 个扫楼任务") % {"n": len(tasks)})
    return redirect("campaigns:round_detail", round.pk)


@require(can_see_campaigns)
@require_POST
def sweep_reveal(request: HttpRequest, pk: int, resident_pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    resident = get_resident_for(user, resident_pk)
    form = RevealForm(request.POST)
    value = ""
    if form.is_valid():
        try:
            value = actions.reveal_phone(
                actor=user, resident=resident, reason=form.cleaned_data["reason"]
            )
        except ValidationError as e:
            add_action_errors(form, e)
    context = {"round": round, "resident": resident, "value": value, "reveal_form": form}
    status = 200 if form.is_valid() and not form.errors else 400
    return render(request, "campaigns/partials/reveal.html", context, status=status)


@require(can_see_campaigns)
def door_service(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    residents = list(reconcile.door_service_residents(round)[:2000])
    context = {
        "round": round,
        "campaign": round.campaign,
        "rows": documents.with_door_reasons(residents, round),
        "can_make_tasks": can_make_tasks(user),
    }
    return render(request, "campaigns/door_service.html", context)


@require(can_make_tasks)
@require_POST
def door_service_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    residents = list(reconcile.door_service_residents(round))
    tasks = actions.door_service_tasks_create(actor=user, round=round, residents=residents)
    messages.success(request, _("已发布 %(n)d 个上门采样任务") % {"n": len(tasks)})
    return redirect("campaigns:round_detail", round.pk)
