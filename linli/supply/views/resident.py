"""The resident's phone page (/my/orders/): the open rounds serving their household, their
order in each (place, change, cancel; paid on delivery), and where each order is.

Residents sign in with their phone and an SMS code (registry/views/sms_login.py); a
visitor not signed in is sent there. The scope limits a resident to their own household,
so another household's order or a round not serving theirs is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.access import request_user
from linli.registry.models import Household, Resident
from linli.supply import actions
from linli.supply.access import get_order_for, get_round_for, visible_rounds
from linli.supply.choices import Channel, DeliveryStatus, OrderStatus, Payment, RoundStatus
from linli.supply.models import Order, SupplyRound
from linli.supply.views.orders import (
    cancel_order,
    household_context,
    offer_rows,
    order_form,
    order_lines,
    placed_order,
    round_offers,
    save_order,
)

View = Callable[..., HttpResponse]
RECENT_ORDERS = 10


def resident_only(view: View) -> View:
    """Signed in as a resident, else to the SMS login (and back here after it)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("registry:sms_login"))
        if not isinstance(user, User) or user.role != Role.RESIDENT or not user.is_active:
            raise PermissionDenied(_("此页面供居民本人使用"))
        return view(request, *args, **kwargs)

    return wrapped


def _my_household(user: User) -> Household | None:
    resident = (
        Resident.objects.filter(user=user)
        .select_related("household__unit__building__compound", "household__community")
        .first()
    )
    return resident.household if resident else None


def _my_round(user: User, pk: int) -> tuple[SupplyRound, Household]:
    household = _my_household(user)
    round = get_round_for(user, pk)
    if household is None or not round.serves(household):
        raise Http404(_("未找到，或该轮次不为您的住户供应"))
    return round, household


@resident_only
def my_orders(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    household = _my_household(user)
    rounds: list[SupplyRound] = []
    orders: list[dict[str, Any]] = []
    if household is not None:
        candidates = visible_rounds(user).filter(status=RoundStatus.OPEN).order_by("closes_at")
        rounds = [r for r in candidates if r.serves(household) and r.window_open()]
        placed = {
            o.round_id: o for o in Order.objects.filter(round__in=rounds, status=OrderStatus.PLACED)
        }
        for round in rounds:
            round.my_order = placed.get(round.pk)  # type: ignore[attr-defined]
        recent = list(
            Order.objects.filter(household=household, status=OrderStatus.PLACED)
            .select_related("round")
            .order_by("-round__delivery_date", "-pk")[:RECENT_ORDERS]
        )
        out_for_delivery = [
            o for o in recent if o.delivery_status == DeliveryStatus.OUT_FOR_DELIVERY
        ]
        if out_for_delivery:
            # The door may have been settled since: read it now, so the household sees 已送达.
            for round in {o.round for o in out_for_delivery}:
                actions.orders_sync_deliveries(round)
            for order in out_for_delivery:
                order.refresh_from_db()
        for order in recent:
            lines = order_lines(order)
            orders.append(
                {"order": order, "lines": lines, "total": sum(x.total_fen for x in lines)}
            )
    context = {"household": household, "rounds": rounds, "orders": orders}
    return render(request, "supply/resident_orders.html", context)


@resident_only
def my_order(request: HttpRequest, pk: int) -> HttpResponse:
    """The household's order in one round: place or change it."""
    user = request_user(request)
    round, household = _my_round(user, pk)
    order = placed_order(round, household)
    offers = round_offers(round)
    payments: list[str] = [Payment.ON_DELIVERY if order is None else order.payment]
    form = order_form(request, round, offers, order, payments=payments)
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
                channel=Channel.RESIDENT,
            )
            if saved is not None:
                messages.success(request, _("订单已修改") if order else _("下单成功"))
                return redirect("supply:my_orders")
    return _render(request, round, household, order, form, offers, status)


def _render(
    request: HttpRequest,
    round: SupplyRound,
    household: Household,
    order: Order | None,
    form: Any,
    offers: Any,
    status: int,
    cancel_errors: list[str] | None = None,
) -> HttpResponse:
    context = household_context(round, household, order, form)
    context.update({"rows": offer_rows(form, offers, round), "cancel_errors": cancel_errors or []})
    return render(request, "supply/resident_order.html", context, status=status)


@resident_only
@require_POST
def my_order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round, household = _my_round(user, pk)
    order = placed_order(round, household)
    errors = cancel_order(actor=user, order=order)
    if not errors:
        messages.success(request, _("订单已取消"))
        return redirect("supply:my_orders")
    offers = round_offers(round)
    form = order_form(request, round, offers, order, bound=False)
    return _render(request, round, household, order, form, offers, 400, errors)


@login_required
def order_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Where an order is (the QR on its door label): the household, or staff of its area."""
    user = request_user(request)
    order = get_order_for(user, pk)
    if order.delivery_status == DeliveryStatus.OUT_FOR_DELIVERY:
        actions.orders_sync_deliveries(order.round)
        order.refresh_from_db()
    return render(request, "supply/order_status.html", {"order": order})
