"""Pages for supply rounds: the list, a new round, one round with its offers and timeline,
adding an offer, opening, closing (a fair round is shared out), copying, and care packages.

Round states change only through the actions (round_open, round_close, round_copy).
A supplier sees the rounds its packages are offered in, its own offers only, and never a
household or a care tag.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.access import request_user, require
from linli.registry.choices import CareTag
from linli.registry.forms import add_action_errors
from linli.registry.models import Building, Community, Compound
from linli.supply import access, actions
from linli.supply.choices import OrderStatus, RoundStatus
from linli.supply.forms import CareForm, CopyForm, OfferForm, RoundForm
from linli.supply.models import CarePlan, Offer, SupplyRound


def can_see_rounds(user: User) -> bool:
    return (
        access.can_manage_rounds(user)
        or access.can_order_for_others(user)
        or (user.is_active and user.role == Role.SUPPLIER)
    )


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


# --- the list ---------------------------------------------------------------------------


@require(can_see_rounds)
def round_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rounds = access.visible_rounds(user).prefetch_related(
        Prefetch("offers", queryset=access.visible_offers(user), to_attr="shown_offers")
    )
    status = request.GET.get("status", "")
    if status in RoundStatus.values:
        rounds = rounds.filter(status=status)
    if user.role == Role.SUPPLIER:
        orders = Count(
            "orders",
            filter=Q(
                orders__status=OrderStatus.PLACED,
                orders__items__offer__package__supplier__in=access.suppliers_of(user),
            ),
            distinct=True,
        )
    else:
        orders = Count("orders", filter=Q(orders__status=OrderStatus.PLACED), distinct=True)
    rounds = rounds.annotate(order_count=orders).order_by("-opens_at", "-pk")
    page = Paginator(rounds, settings.LINLI_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "query": query.urlencode(),
        "status": status,
        "statuses": RoundStatus.choices,
        "can_create": access.can_manage_rounds(user),
        "can_see_suppliers": access.can_manage_rounds(user) or user.role == Role.SUPPLIER,
    }
    if _is_htmx(request):
        return render(request, "supply/partials/round_rows.html", context)
    return render(request, "supply/round_list.html", context)


# --- a new round ------------------------------------------------------------------------


def _round_form(request: HttpRequest) -> RoundForm:
    return RoundForm(
        request.POST or None,
        communities=Community.objects.order_by("code"),
        compounds=Compound.objects.select_related("community").order_by("community_id", "name"),
        buildings=Building.objects.select_related("compound").order_by(
            "compound__community_id", "compound__name", "sort_key", "name"
        ),
    )


def _pk(value: Any) -> int | None:
    return value.pk if value is not None else None


@require(access.can_manage_rounds)
def round_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = _round_form(request)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                # PermissionDenied (a street round by community staff) answers 403.
                place = access.round_place_for(
                    user,
                    scope=data["scope"],
                    community_id=_pk(data["community"]),
                    compound_id=_pk(data["compound"]),
                    building_id=_pk(data["building"]),
                )
                organiser = access.organiser_for(data["organiser"], place)
                round = actions.round_create(
                    actor=user,
                    street_id=place.street_id,
                    data=actions.RoundInput(
                        title=data["title"],
                        scope=data["scope"],
                        opens_at=data["opens_at"],
                        closes_at=data["closes_at"],
                        delivery_date=data["delivery_date"],
                        intake=data["intake"],
                        community_id=place.community_id,
                        compound_id=place.compound_id,
                        building_id=place.building_id,
                        organiser=organiser,
                    ),
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(
                    request, _("轮次“%(title)s”已创建，请添加供应套餐") % {"title": round.title}
                )
                return redirect("supply:round_detail", pk=round.pk)
    return render(request, "supply/round_form.html", {"form": form}, status=status)


# --- one round --------------------------------------------------------------------------


def _offer_rows(user: User, round: SupplyRound) -> list[Offer]:
    offers = list(access.visible_offers(user).filter(round=round))
    counts = access.offer_counts(offers)
    for offer in offers:
        count = counts.get(offer.pk, access.OfferCount())
        offer.units_ordered = count.units  # type: ignore[attr-defined]
        offer.units_allocated = count.allocated  # type: ignore[attr-defined]
        offer.order_count = count.orders  # type: ignore[attr-defined]
    return offers


def _timeline(round: SupplyRound) -> list[tuple[Any, str, str]]:
    """What happened to the round and what is planned, in time order."""
    events: list[tuple[Any, str, str]] = [
        (round.created_at, _("创建（草稿）"), str(round.created_by or "")),
        (round.opens_at, _("开始接单（计划）"), ""),
        (round.closes_at, _("截单（计划）"), ""),
    ]
    if round.status_changed_at:
        events.append(
            (
                round.status_changed_at,
                _("状态改为“%(status)s”") % {"status": round.get_status_display()},
                str(round.status_changed_by or ""),
            )
        )
    return sorted(events, key=lambda event: event[0])


def _round_context(request: HttpRequest, round: SupplyRound, **forms: Any) -> dict[str, Any]:
    user = request_user(request)
    manager = access.can_manage_round(user, round)
    supplier = user.role == Role.SUPPLIER
    orders = access.round_order_count(user, round)
    context: dict[str, Any] = {
        "round": round,
        "offers": _offer_rows(user, round),
        "order_count": orders,
        "timeline": _timeline(round),
        "manager": manager,
        "supplier_view": supplier,
        "care_plans": []
        if supplier
        else list(round.care_plans.select_related("offer__package", "created_by")),
        "can_add_offer": manager and round.status in (RoundStatus.DRAFT, RoundStatus.OPEN),
        "can_open": manager and round.can_become(RoundStatus.OPEN),
        "can_close": manager and round.can_become(RoundStatus.CLOSED),
        "offer_form": OfferForm(packages=access.packages_for_round(round)),
    }
    context.update(forms)
    return context


@require(can_see_rounds)
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    round = access.get_round_for(request_user(request), pk)
    return render(request, "supply/round_detail.html", _round_context(request, round))


def _managed_round(request: HttpRequest, pk: int) -> tuple[User, SupplyRound]:
    user = request_user(request)
    round = access.get_round_for(user, pk)
    access.require_round_manager(user, round)
    return user, round


def _refused(request: HttpRequest, round: SupplyRound, **forms: Any) -> HttpResponse:
    """Nothing was written: the round as the database has it, with the reasons (400)."""
    round.refresh_from_db()
    context = _round_context(request, round, **forms)
    template = (
        "supply/partials/round_panel.html" if _is_htmx(request) else "supply/round_detail.html"
    )
    return render(request, template, context, status=400)


def _done(request: HttpRequest, round: SupplyRound, message: str) -> HttpResponse:
    if _is_htmx(request):
        round.refresh_from_db()
        context = _round_context(request, round)
        context["saved"] = message
        return render(request, "supply/partials/round_panel.html", context)
    messages.success(request, message)
    return redirect("supply:round_detail", pk=round.pk)


@require(access.can_manage_rounds)
@require_POST
def offer_add(request: HttpRequest, pk: int) -> HttpResponse:
    user, round = _managed_round(request, pk)
    form = OfferForm(request.POST, packages=access.packages_for_round(round))
    if form.is_valid():
        data = form.cleaned_data
        try:
            offer = actions.offer_add(
                actor=user,
                round=round,
                package=data["package"],
                stock=data["stock"],
                per_household_limit=data["per_household_limit"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            return _done(request, round, _("已添加“%(name)s”") % {"name": offer.package.name})
    return _refused(request, round, offer_form=form)


def _transition(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    user, round = _managed_round(request, pk)
    try:
        if step == "open":
            round = actions.round_open(actor=user, round=round)
            message = _("已开始接单")
        else:
            round = actions.round_close(actor=user, round=round)
            message = _("已截单，当前“%(status)s”") % {"status": round.get_status_display()}
    except ValidationError as e:
        return _refused(request, round, refused=e.messages)
    return _done(request, round, message)


@require(access.can_manage_rounds)
@require_POST
def round_open(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, "open")


@require(access.can_manage_rounds)
@require_POST
def round_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, "close")


@require(access.can_manage_rounds)
def round_copy(request: HttpRequest, pk: int) -> HttpResponse:
    user, round = _managed_round(request, pk)
    # "Every two days": the next round opens two days after this one by default.
    form = CopyForm(
        request.POST or None, initial={"opens_at": round.opens_at + dt.timedelta(days=2)}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                copy = actions.round_copy(
                    actor=user, round=round, opens_at=form.cleaned_data["opens_at"]
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(
                    request,
                    _("已复制为新一轮（草稿），共 %(n)d 个供应套餐") % {"n": copy.offers.count()},
                )
                return redirect("supply:round_detail", pk=copy.pk)
    context = {"round": round, "form": form}
    return render(request, "supply/round_copy.html", context, status=status)


# --- care packages (爱心包) ----------------------------------------------------------------


@require(access.can_manage_rounds)
def care_plans(request: HttpRequest, pk: int) -> HttpResponse:
    user, round = _managed_round(request, pk)
    offers = round.offers.select_related("package").order_by("package__name")
    form = CareForm(request.POST or None, offers=offers)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = actions.care_plan_apply(
                    actor=user,
                    round=round,
                    offer=data["offer"],
                    tags=list(data["tags"]),
                    funder=data["funder"],
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(
                    request,
                    _("爱心包已发放：%(n)d 户各 1 份%(name)s，出资方 %(funder)s")
                    % {
                        "n": plan.households,
                        "name": plan.offer.package.name,
                        "funder": plan.funder,
                    },
                )
                return redirect("supply:care_plans", pk=round.pk)
    plans: list[CarePlan] = list(
        round.care_plans.select_related("offer__package", "created_by").order_by("-pk")
    )
    labels = dict(CareTag.choices)
    for plan in plans:
        plan.tag_labels = [str(labels.get(tag, tag)) for tag in plan.tags]  # type: ignore[attr-defined]
    context = {"round": round, "form": form, "plans": plans}
    return render(request, "supply/care_plans.html", context, status=status)
