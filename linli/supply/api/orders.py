"""Supply API: orders — a round's orders, placing one (with an Idempotency-Key), changing and
cancelling it, and where it is (the household's own view).

Grid workers, hotline operators and round managers order for households of their area
(recorded as proxy, with who); a resident for their own household only (another is a 404,
by the scope). A supplier token lists the orders holding its offers, with the household's
address and a masked name, never phones or care tags, and only its own items.

POST /rounds/{id}/orders is what 6 a.m. hits: a fixed handful of queries per order.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from ninja import Field, Query, Router, Schema, Status
from ninja.params.functions import Header

from linli.accounts.api import api_user
from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib import rest
from linli.lib.masking import mask_name
from linli.lib.rest import ERRORS, InputSchema, Page, PageQuery, local_time, page_of
from linli.registry.choices import Relation
from linli.registry.models import Household, Resident
from linli.supply import access, actions
from linli.supply.choices import Channel, OrderStatus, Payment
from linli.supply.forms import items_from_pairs
from linli.supply.models import Order, OrderItem, SupplyRound

router = Router(tags=["保供订单"])


def _orderer(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(
        access.can_order_for_others(user) or user.role == Role.RESIDENT,
        _("您的角色不能下单"),
    )
    return user


def _is_supplier(user: User) -> bool:
    return user.role == Role.SUPPLIER and not user.is_superuser


# --- schemas ------------------------------------------------------------------------------


class ItemIn(InputSchema):
    offer_id: int = Field(description="本轮供应 id（见 GET /rounds/{id} 的 offers）")
    quantity: int = Field(ge=1, le=99, description="份数（不超过每户限购）")


class OrderIn(InputSchema):
    household_id: int = Field(description="住户 id（居民只能为自己的住户下单）")
    items: list[ItemIn] = Field(min_length=1, description="套餐和份数")
    payment: Payment = Field(
        Payment.ON_DELIVERY, description="on_delivery 货到付款、online 线上已付、free 免费"
    )


class OrderPatch(InputSchema):
    items: list[ItemIn] | None = Field(None, description="新的套餐和份数（整单替换）")
    payment: Payment | None = Field(None, description="付款方式")


class ItemOut(Schema):
    offer_id: int
    package_name: str
    quantity: int
    allocated: int | None = Field(description="分到的份数（公平分配截单前为 null）")
    allocation_note: str = Field(description="分配说明")
    price_fen: int
    care: bool = Field(description="爱心包（免费发放）")


class OrderOut(Schema):
    id: int
    round_id: int
    household_id: int
    address: str
    name_masked: str = Field(description="户主姓名（已隐藏）")
    status: str
    status_label: str
    channel: str | None = Field(
        description="resident 居民自助、proxy 代下单、bulk 团购登记表、care"
    )
    payment: str
    payment_label: str
    placed_by: str | None = Field(description="下单人（代下单时为工作人员）")
    pickup_code: str | None = Field(description="取货码（保供单位看不到）")
    delivery_status: str
    delivery_status_label: str
    delivery_status_at: dt.datetime | None
    total_fen: int = Field(description="应付金额（分）；保供单位：仅其套餐")
    items: list[ItemOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class StatusOut(Schema):
    id: int
    round_id: int
    round_title: str
    delivery_date: dt.date
    status: str
    status_label: str
    delivery_status: str
    delivery_status_label: str = Field(description="如：已到卡口，消杀静置中")
    delivery_status_at: dt.datetime | None
    delivery_failure: str
    pickup_code: str
    items: list[ItemOut]


class RoundOrdersQuery(PageQuery):
    status: OrderStatus | None = Field(OrderStatus.PLACED, description="订单状态（默认已下单）")
    household_id: int | None = Field(None, description="只看这一户")


# --- rendering ----------------------------------------------------------------------------


def _item_out(item: OrderItem) -> ItemOut:
    return ItemOut(
        offer_id=item.offer_id,
        package_name=item.offer.package.name,
        quantity=item.quantity,
        allocated=item.allocated,
        allocation_note=item.allocation_note,
        price_fen=item.price_fen,
        care=item.care_plan_id is not None,
    )


def _total(items: list[OrderItem]) -> int:
    return sum(
        (i.quantity if i.allocated is None else i.allocated) * i.price_fen
        for i in items
        if i.care_plan_id is None
    )


def _head_name(household: Household) -> str:
    people: list[Resident] = getattr(household, "people", None) or list(
        Resident._base_manager.filter(household=household).order_by("pk")
    )
    heads = [r for r in people if r.relation == Relation.HEAD] or people
    return mask_name(heads[0].name) if heads else ""


def _order_out(order: Order, items: list[OrderItem], *, supplier: bool = False) -> OrderOut:
    return OrderOut(
        id=order.pk,
        round_id=order.round_id,
        household_id=order.household_id,
        address=order.household.address,
        name_masked=_head_name(order.household),
        status=order.status,
        status_label=order.get_status_display(),
        channel=None if supplier else order.channel,
        payment=order.payment,
        payment_label=order.get_payment_display(),
        placed_by=None if supplier or order.placed_by is None else str(order.placed_by),
        pickup_code=None if supplier else order.pickup_code,
        delivery_status=order.delivery_status,
        delivery_status_label=order.get_delivery_status_display(),
        delivery_status_at=local_time(order.delivery_status_at),
        total_fen=_total(items),
        items=[_item_out(i) for i in items],
        created_at=local_time(order.created_at),  # type: ignore[arg-type]
        updated_at=local_time(order.updated_at),  # type: ignore[arg-type]
    )


def _items_of(order: Order) -> list[OrderItem]:
    return list(
        OrderItem._base_manager.filter(order_id=order.pk)
        .select_related("offer__package")
        .order_by("offer__package__category", "offer__package__name")
    )


def _listed(orders: QuerySet[Order], items: QuerySet[OrderItem]) -> QuerySet[Order]:
    """Orders with what a list shows, in a fixed number of queries."""
    return orders.select_related("household", "placed_by").prefetch_related(
        Prefetch(
            "items",
            queryset=items.select_related("offer__package").order_by(
                "offer__package__category", "offer__package__name"
            ),
            to_attr="item_list",
        ),
        Prefetch(
            "household__residents",
            queryset=Resident._base_manager.order_by("pk"),
            to_attr="people",
        ),
    )


# --- a round's orders ---------------------------------------------------------------------


@router.get("/rounds/{round_id}/orders", response={200: Page[OrderOut], **ERRORS})
def round_orders(
    request: HttpRequest, round_id: int, query: Query[RoundOrdersQuery]
) -> Page[OrderOut]:
    """A round's orders in your area; a supplier: the orders holding its offers, with only
    its items, the address and a masked name."""
    user = api_user(request)
    supplier = _is_supplier(user)
    rest.require(
        supplier or access.can_order_for_others(user) or user.role == Role.RESIDENT,
        _("您的角色无权查看订单"),
    )
    round = access.get_round_for(user, round_id)
    if supplier:
        with scopes_disabled():
            suppliers = access.suppliers_of(user)
            orders = Order.objects.filter(
                round=round, items__offer__package__supplier__in=suppliers
            ).distinct()
            items = OrderItem._base_manager.filter(offer__package__supplier__in=suppliers)
            return _orders_page(_listed(orders, items), query, supplier=True)
    orders = access.visible_orders(user).filter(round=round)
    return _orders_page(_listed(orders, OrderItem._base_manager.all()), query)


def _orders_page(
    orders: QuerySet[Order], query: RoundOrdersQuery, *, supplier: bool = False
) -> Page[OrderOut]:
    if query.status is not None:
        orders = orders.filter(status=query.status)
    if query.household_id is not None:
        orders = orders.filter(household_id=query.household_id)
    return page_of(
        orders.order_by("household__unit_id", "household__room_sort_key", "pk"),
        query,
        lambda o: _order_out(o, o.item_list, supplier=supplier),  # type: ignore[attr-defined]
    )


# --- placing, changing, cancelling -----------------------------------------------------------


def _household_for_order(user: User, household_id: int) -> Household:
    """A household of the user's area (a resident: their own), or 404."""
    household = (
        Household.objects.select_related("community", "unit__building")
        .filter(pk=household_id)
        .first()
    )
    if household is None or not access.can_order_for(user, household):
        raise access._not_found()
    return household


@router.post(
    "/rounds/{round_id}/orders",
    response={200: OrderOut, 201: OrderOut, **ERRORS},
)
def order_place(
    request: HttpRequest,
    round_id: int,
    payload: OrderIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=64,
        description="同一个键重复提交只生成一个订单（重试安全）；已生成时返回 200 和该订单",
    ),
) -> Status[OrderOut]:
    """Place a household's order. 201 when made now; 200 with the same order when the
    Idempotency-Key was already used for it."""
    user = _orderer(request)
    # The household is loaded through the user's area and the action checks that the
    # round serves it, so the round needs no area check of its own here (the heavy
    # DISTINCT of visible_rounds was 15% of this hot endpoint's time).
    round = SupplyRound._base_manager.filter(pk=round_id).first()
    if round is None:
        raise access._not_found()
    household = _household_for_order(user, payload.household_id)
    offers = list(
        round.offers.select_related("package").filter(pk__in=[i.offer_id for i in payload.items])
    )
    items = items_from_pairs(offers, [(i.offer_id, i.quantity) for i in payload.items])
    key = (idempotency_key or "").strip() or None
    started = timezone.now()
    order = actions.order_place(
        actor=user,
        round=round,
        household=household,
        items=items,
        payment=payload.payment,
        channel=Channel.RESIDENT if user.role == Role.RESIDENT else Channel.PROXY,
        idempotency_key=key,
    )
    if order.household_id == household.pk:
        order.household = household
    replay = order.created_at < started  # the key's order, made by an earlier request
    return Status(200 if replay else 201, _order_out(order, _items_of(order)))


def _supplier_order(user: User, order_id: int) -> OrderOut:
    with scopes_disabled():
        suppliers = access.suppliers_of(user)
        orders = Order.objects.filter(
            pk=order_id, items__offer__package__supplier__in=suppliers
        ).distinct()
        items = OrderItem._base_manager.filter(offer__package__supplier__in=suppliers)
        order = _listed(orders, items).first()
        if order is None:
            raise access._not_found()
        return _order_out(order, order.item_list, supplier=True)  # type: ignore[attr-defined]


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def order_detail(request: HttpRequest, order_id: int) -> OrderOut:
    user = api_user(request)
    if _is_supplier(user):
        return _supplier_order(user, order_id)
    order = access.get_order_for(user, order_id)
    return _order_out(order, _items_of(order))


def _own_order(request: HttpRequest, order_id: int) -> tuple[User, Order]:
    user = _orderer(request)
    order = access.get_order_for(user, order_id)
    if not access.can_order_for(user, order.household):
        raise access._not_found()
    return user, order


@router.patch("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def order_change(request: HttpRequest, order_id: int, payload: OrderPatch) -> OrderOut:
    """Change the items (the whole list) and/or the payment, until the window closes."""
    user, order = _own_order(request, order_id)
    current = _items_of(order)
    if payload.items is None:
        pairs = [(i.offer_id, i.quantity) for i in current if i.care_plan_id is None]
    else:
        pairs = [(i.offer_id, i.quantity) for i in payload.items]
    offers = list(order.round.offers.select_related("package"))
    order = actions.order_change(
        actor=user,
        order=order,
        items=items_from_pairs(offers, pairs),
        payment=payload.payment,
    )
    return _order_out(order, _items_of(order))


@router.delete("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def order_cancel(request: HttpRequest, order_id: int) -> OrderOut:
    """Cancel the order (its stock goes back), until the window closes."""
    user, order = _own_order(request, order_id)
    order = actions.order_cancel(actor=user, order=order)
    return _order_out(order, _items_of(order))


@router.get("/orders/{order_id}/status", response={200: StatusOut, **ERRORS})
def order_status(request: HttpRequest, order_id: int) -> StatusOut:
    """Where the order is (the household's view): delivery status and when, why it was not
    delivered, the pickup code, and what each item got in a fair round and why."""
    user = api_user(request)
    rest.require(not _is_supplier(user), _("保供单位请用 GET /orders/{id}"))
    order: Order = access.get_order_for(user, order_id)
    round: SupplyRound = order.round
    return StatusOut(
        id=order.pk,
        round_id=round.pk,
        round_title=round.title,
        delivery_date=round.delivery_date,
        status=order.status,
        status_label=order.get_status_display(),
        delivery_status=order.delivery_status,
        delivery_status_label=order.get_delivery_status_display(),
        delivery_status_at=local_time(order.delivery_status_at),
        delivery_failure=order.delivery_failure,
        pickup_code=order.pickup_code,
        items=[_item_out(i) for i in _items_of(order)],
    )
