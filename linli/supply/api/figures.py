"""Supply API: figures for the user's area and a round's settlement sheet per supplier."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from ninja import Field, Router, Schema

from linli.accounts.api import api_user
from linli.lib import rest
from linli.supply import access, figures
from linli.supply.models import Order, Supplier
from linli.supply.views.figures import figures_orders

router = Router(tags=["保供统计"])


class CategoryOut(Schema):
    category: str
    label: str
    units: int
    grams: int
    fen: int = Field(description="金额（分）")


class DayOut(Schema):
    day: dt.date
    placed: int
    delivered: int
    failed: int


class CommunityOut(Schema):
    community: str
    orders: int
    delivered: int
    failed: int
    households_reached: int
    grams: int
    fen: int


class FiguresOut(Schema):
    orders: int
    delivered: int
    failed: int
    households_reached: int
    grams: int = Field(description="已送达重量（克）")
    fen: int = Field(description="已送达金额（分）")
    care_packages: int
    care_by_funder: dict[str, int]
    delivery_minutes_median: float | None = Field(description="卡口放行到送达，分钟，中位数")
    delivery_minutes_p90: float | None
    categories: list[CategoryOut]
    days: list[DayOut]
    communities: list[CommunityOut]


@router.get("/supply/figures", response={200: FiguresOut, **rest.ERRORS})
def supply_figures(
    request: HttpRequest, round: int | None = None, since: dt.date | None = None
) -> FiguresOut:
    """Orders placed, delivered and failed, households reached, kg and value per category
    (delivered items), care packages by funder, release-to-door minutes."""
    user = api_user(request)
    rest.require(access.can_manage_rounds(user), _("您的角色无权查看保供统计"))
    result = figures.summary(figures_orders(user, round, since))
    return FiguresOut(
        orders=result.orders,
        delivered=result.delivered,
        failed=result.failed,
        households_reached=result.households_reached,
        grams=sum(row.grams for row in result.categories),
        fen=result.fen,
        care_packages=result.care_packages,
        care_by_funder=result.care_by_funder,
        delivery_minutes_median=result.delivery_minutes_median,
        delivery_minutes_p90=result.delivery_minutes_p90,
        categories=[
            CategoryOut(category=r.category, label=r.label, units=r.units, grams=r.grams, fen=r.fen)
            for r in result.categories
        ],
        days=[
            DayOut(day=r.day, placed=r.placed, delivered=r.delivered, failed=r.failed)
            for r in result.days
        ],
        communities=[
            CommunityOut(
                community=r.community,
                orders=r.orders,
                delivered=r.delivered,
                failed=r.failed,
                households_reached=r.households_reached,
                grams=r.grams,
                fen=r.fen,
            )
            for r in result.communities
        ],
    )


class SettlementRowOut(Schema):
    payment: str
    label: str
    orders: int
    units: int
    fen: int


class SettlementOut(Schema):
    supplier_id: int
    supplier: str
    rows: list[SettlementRowOut]


@router.get("/rounds/{round_id}/settlement", response={200: list[SettlementOut], **rest.ERRORS})
def round_settlement(request: HttpRequest, round_id: int) -> list[SettlementOut]:
    """Per supplier of the round (a supplier: only its own): orders, units, amount by payment."""
    user = api_user(request)
    managing = access.can_manage_rounds(user)
    rest.require(managing or access.suppliers_of(user).exists(), _("您的角色无权查看结算单"))
    round = access.get_round_for(user, round_id)
    suppliers = Supplier.objects.filter(packages__offers__round=round).distinct()
    if not managing:
        suppliers = suppliers.filter(pk__in=access.suppliers_of(user))
    with scopes_disabled():
        orders = Order.objects.filter(round=round)
        return [
            SettlementOut(
                supplier_id=supplier.pk,
                supplier=supplier.name,
                rows=[
                    SettlementRowOut(
                        payment=r.payment, label=r.label, orders=r.orders, units=r.units, fen=r.fen
                    )
                    for r in figures.settlement(orders, supplier.pk)
                ],
            )
            for supplier in suppliers
        ]
