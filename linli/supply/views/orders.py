"""代下单: grid workers, hotline operators and community staff find a household of their area
and place, change or cancel its order in an open round (the order records proxy and who).

The household page is shared with the resident's own page (views/resident.py): the same
form, the same lines, the same errors from the actions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.forms import BoundField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.lib.limits import limited
from linli.registry.access import get_household_for, request_user, require
from linli.registry.forms import add_action_errors
from linli.registry.models import Household, Resident
from linli.supply import actions
from linli.supply.access import can_order_for_others, get_round_for, visible_rounds
from linli.supply.choices import Channel, Intake, OrderStatus, RoundStatus
from linli.supply.forms import HouseholdSearchForm, OrderForm, quantity_field_name
from linli.supply.models import Offer, Order, OrderItem, SupplyRound

SEARCH_LIMIT = 20


def is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


# --- what an order holds, for every page that shows one ------------------------------------


@dataclass(frozen=True)
class Line:
    name: str
    quantity: int
    allocated: int | None
    note: str
    price_fen: int
    care: bool

    @property
    def units(self) -> int:
        """What the household gets (fair rounds: once allocated) and pays for."""
        return self.quantity if self.allocated is None else self.allocated

    @property
    def total_fen(self) -> int:
        return 0 if self.care else self.units * self.price_fen


def order_lines(order: Order) -> list[Line]:
    items = OrderItem.objects.filter(order=order).select_related("offer__package")
    return [
        Line(
            name=item.offer.package.name,
            quantity=item.quantity,
            allocated=item.allocated,
            note=item.allocation_note,
            price_fen=item.price_fen,
            care=item.care_plan_id is not None,
        )
        for item in items.order_by("offer__package__category", "offer__package__name")
    ]


def round_offers(round: SupplyRound) -> list[Offer]:
    return list(
        round.offers.select_related("package").order_by("package__category", "package__name")
    )


def placed_order(round: SupplyRound, household: Household) -> Order | None:
    return (
        Order.objects.filter(round=round, household=household, status=OrderStatus.PLACED)
        .select_related("placed_by")
        .first()
    )


def order_form(
    request: HttpRequest,
    round: SupplyRound,
    offers: list[Offer],
    order: Order | None,
    *,
    payments: list[str] | None = None,
    bound: bool = True,
) -> OrderForm:
    """The order form, bound on POST; on GET filled with what the order asks for now.
    Care packages on the order are shown, not asked (the action keeps them)."""
    fixed: set[int] = set()
    initial: dict[str, Any] = {"key": uuid.uuid4().hex}
    if order is not None:
        initial["payment"] = order.payment
        for offer_id, quantity, care_plan_id in OrderItem.objects.filter(order=order).values_list(
            "offer_id", "quantity", "care_plan_id"
        ):
            if care_plan_id is not None:
                fixed.add(offer_id)
            else:
                initial[f"q_{offer_id}"] = quantity
    data = request.POST if bound and request.method == "POST" else None
    return OrderForm(data, offers=offers, fixed=fixed, payments=payments, initial=initial)


@dataclass(frozen=True)
class OfferRow:
    offer: Offer
    field: BoundField | None  # None: a care package already given on this order
    first_come: bool


def offer_rows(form: OrderForm, offers: list[Offer], round: SupplyRound) -> list[OfferRow]:
    names = set(form.fields)
    return [
        OfferRow(
            offer=offer,
            field=form[quantity_field_name(offer)] if quantity_field_name(offer) in names else None,
            first_come=round.intake == Intake.FIRST_COME,
        )
        for offer in offers
    ]


def save_order(
    *,
    actor: User,
    round: SupplyRound,
    household: Household,
    order: Order | None,
    form: OrderForm,
    channel: str,
) -> Order | None:
    """Place or change the order as the valid form asks; None (with the action's errors on
    the form) when refused. Each action is one transaction: refused means nothing written."""
    try:
        if order is None:
            return actions.order_place(
                actor=actor,
                round=round,
                household=household,
                items=form.items(),
                payment=form.cleaned_data["payment"],
                channel=channel,
                idempotency_key=form.cleaned_data.get("key") or None,
            )
        return actions.order_change(
            actor=actor, order=order, items=form.items(), payment=form.cleaned_data["payment"]
        )
    except ValidationError as e:
        add_action_errors(form, e)
        return None


def household_context(
    round: SupplyRound, household: Household, order: Order | None, form: OrderForm
) -> dict[str, Any]:
    lines = order_lines(order) if order else []
    return {
        "round": round,
        "household": household,
        "order": order,
        "lines": lines,
        "order_total": sum(line.total_fen for line in lines),
        "form": form,
        "window_open": round.window_open(),
        "serves": round.serves(household),
    }


# --- pages ------------------------------------------------------------------------------


@require(can_order_for_others)
def order_rounds(request: HttpRequest) -> HttpResponse:
    """The rounds taking orders in the user's area: where 代下单 and 团购登记 start."""
    rounds = (
        visible_rounds(request_user(request))
        .filter(status=RoundStatus.OPEN)
        .order_by("closes_at", "pk")
    )
    return render(request, "supply/order_rounds.html", {"rounds": rounds})


def _households_found(round: SupplyRound, text: str) -> list[Household]:
    """Households of the round in the user's area (scoped) by address, or by a resident's
    name, pinyin, initials or phone tail (the registry's search)."""
    matching = Resident.objects.search(text).values("household_id")
    residents = Resident._base_manager.order_by("pk")
    return list(
        round.households()
        .filter(Q(address__contains=text) | Q(pk__in=matching))
        .annotate(
            ordered=Exists(
                Order._base_manager.filter(
                    round=round, household=OuterRef("pk"), status=OrderStatus.PLACED
                )
            )
        )
        .prefetch_related(Prefetch("residents", queryset=residents, to_attr="people"))
        .order_by("unit_id", "room_sort_key", "room")[:SEARCH_LIMIT]
    )


@require(can_order_for_others)
@limited("LINLI_SEARCH_RATE")
def order_proxy(request: HttpRequest, pk: int) -> HttpResponse:
    """代下单 for one round: search a household; the round's latest orders in the area."""
    round = get_round_for(request_user(request), pk)
    form = HouseholdSearchForm(request.GET)
    text = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context: dict[str, Any] = {
        "round": round,
        "form": form,
        "q": text,
        "households": _households_found(round, text) if text else [],
        "recent": []
        if text
        else list(
            Order.objects.filter(round=round, status=OrderStatus.PLACED)
            .select_related("household", "placed_by")
            .order_by("-updated_at", "-pk")[:SEARCH_LIMIT]
        ),
        "window_open": round.window_open(),
    }
    if is_htmx(request):
        return render(request, "supply/partials/order_search_results.html", context)
    return render(request, "supply/order_proxy.html", context)


def _proxy_household(request: HttpRequest, pk: int, household_pk: int) -> tuple[Any, ...]:
    user = request_user(request)
    round = get_round_for(user, pk)
    household = get_household_for(user, household_pk)
    return user, round, household


@require(can_order_for_others)
def order_household(request: HttpRequest, pk: int, household_pk: int) -> HttpResponse:
    """One household's order in a round: place, change (quantities and payment), cancel."""
    user, round, household = _proxy_household(request, pk, household_pk)
    order = placed_order(round, household)
    offers = round_offers(round)
    form = order_form(request, round, offers, order)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            saved = save_order(
                actor=user,
                round=round,
                household=household,
                order=order,
                form=form,
                channel=Channel.PROXY,
            )
            if saved is not None:
                messages.success(
                    request,
                    (_("已为 %(address)s 修改订单") if order else _("已为 %(address)s 代下单"))
                    % {"address": household.address},
                )
                return redirect("supply:order_household", pk=round.pk, household_pk=household.pk)
    return _render_household(request, round, household, order, form, offers, status)


def _render_household(
    request: HttpRequest,
    round: SupplyRound,
    household: Household,
    order: Order | None,
    form: OrderForm,
    offers: list[Offer],
    status: int,
    cancel_errors: list[str] | None = None,
) -> HttpResponse:
    residents = list(Resident.objects.filter(household=household).order_by("pk"))
    context = household_context(round, household, order, form)
    context.update(
        {
            "residents": residents,
            "rows": offer_rows(form, offers, round),
            "cancel_errors": cancel_errors or [],
            "cancel_url": reverse(
                "supply:order_cancel", kwargs={"pk": round.pk, "household_pk": household.pk}
            ),
        }
    )
    return render(request, "supply/order_household.html", context, status=status)


@require(can_order_for_others)
@require_POST
def order_cancel(request: HttpRequest, pk: int, household_pk: int) -> HttpResponse:
    user, round, household = _proxy_household(request, pk, household_pk)
    order = placed_order(round, household)
    errors = cancel_order(actor=user, order=order)
    if not errors:
        messages.success(request, _("已取消 %(address)s 的订单") % {"address": household.address})
        return redirect("supply:order_household", pk=round.pk, household_pk=household.pk)
    offers = round_offers(round)
    form = order_form(request, round, offers, order, bound=False)
    return _render_household(request, round, household, order, form, offers, 400, errors)


def cancel_order(*, actor: User, order: Order | None) -> list[str]:
    """Cancel; the reasons it was refused (empty when done)."""
    if order is None:
        return [_("该户本轮没有订单")]
    try:
        actions.order_cancel(actor=actor, order=order)
    except ValidationError as e:
        return list(e.messages)
    return []
