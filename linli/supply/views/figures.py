"""Supply figures for the user's area (optionally one round) and a round's settlement sheet
per supplier."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.registry.access import request_user, require
from linli.supply import access, actions, figures
from linli.supply.choices import RoundStatus
from linli.supply.models import Order, Supplier, SupplyRound


class FiguresForm(forms.Form):
    round = forms.IntegerField(label=gettext_lazy("轮次"), required=False)
    since = forms.DateField(label=gettext_lazy("起始日期"), required=False)


def figures_orders(user: User, round_id: int | None, since: dt.date | None) -> QuerySet[Order]:
    """The orders the figures count: the user's area, one round if asked, from a day on."""
    orders = access.visible_orders(user)
    if round_id is not None:
        round = access.get_round_for(user, round_id)
        actions.orders_sync_deliveries(round)  # doors settled since anyone last looked
        orders = orders.filter(round=round)
    else:
        for round in access.visible_rounds(user).filter(status=RoundStatus.DISPATCHED):
            actions.orders_sync_deliveries(round)
    if since is not None:
        start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
        orders = orders.filter(created_at__gte=start)
    return orders


@require(access.can_manage_rounds)
def supply_figures(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = FiguresForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    orders = figures_orders(user, data.get("round"), data.get("since"))
    context = {
        "form": form,
        "figures": figures.summary(orders),
        "rounds": access.visible_rounds(user)[:50],
        "round_id": data.get("round"),
    }
    return render(request, "supply/figures.html", context, status=200 if form.is_valid() else 400)


def _settlement_suppliers(user: User, round: SupplyRound) -> QuerySet[Supplier]:
    suppliers = Supplier.objects.filter(packages__offers__round=round).distinct()
    if access.can_manage_rounds(user):
        return suppliers
    return suppliers.filter(pk__in=access.suppliers_of(user))


def _may_settle(user: User) -> bool:
    return access.can_manage_rounds(user) or access.suppliers_of(user).exists()


@require(_may_settle)
def settlement(request: HttpRequest, pk: int) -> HttpResponse:
    """Per supplier: orders, units and amounts by payment kind, and care packages by funder."""
    user = request_user(request)
    round = access.get_round_for(user, pk)
    # A supplier's own sheet needs the round's orders whatever its (empty) area holds.
    with scopes_disabled():
        orders = Order.objects.filter(round=round)
        sheets = [
            (
                supplier,
                figures.settlement(orders, supplier.pk),
                figures.care_settlement(orders, supplier.pk),
            )
            for supplier in _settlement_suppliers(user, round)
        ]
        care = figures.summary(orders).care_by_funder if access.can_manage_rounds(user) else {}
    context = {"round": round, "sheets": sheets, "care": care}
    return render(request, "supply/settlement.html", context)
