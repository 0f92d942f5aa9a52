"""Writes for supply rounds: suppliers and packages, rounds and offers, orders, allocation.

Orders in a first-come round take stock with one conditional UPDATE per offer, in offer
order (so two orders never wait on each other's rows in opposite orders); the first offer
without enough left rolls the whole order back with "已售罄". An acknowledged order is
committed before the caller answers.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.registry.models import Household, Resident
from linli.supply import allocation
from linli.supply.choices import (
    Channel,
    Intake,
    OrderStatus,
    Payment,
    RoundScope,
    RoundStatus,
)
from linli.supply.models import Offer, Order, OrderItem, Package, SupplyRound

Errors = dict[str, list[str]]


# --- rounds -----------------------------------------------------------------------------


@dataclass
class RoundInput:
    title: str
    scope: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    delivery_date: dt.date
    intake: str
    community_id: int | None = None
    compound_id: int | None = None
    building_id: int | None = None
    organiser: User | None = None


@transaction.atomic
def round_create(*, actor: User, street_id: int, data: RoundInput) -> SupplyRound:
    errors: Errors = {}
    if not data.title.strip():
        errors["title"] = [_("请填写轮次名称")]
    if data.scope not in RoundScope.values:
        errors["scope"] = [_("请选择范围")]
    if data.intake not in Intake.values:
        errors["intake"] = [_("请选择接单方式")]
    if data.closes_at <= data.opens_at:
        errors["closes_at"] = [_("截单时间必须晚于开始接单时间")]
    if data.delivery_date < timezone.localtime(data.closes_at).date():
        errors["delivery_date"] = [_("配送日期不能早于截单日期")]
    needed = {
        RoundScope.COMMUNITY: ("community_id", _("请选择社区")),
        RoundScope.COMPOUND: ("compound_id", _("请选择小区")),
        RoundScope.BUILDING: ("building_id", _("请选择楼栋")),
    }.get(RoundScope(data.scope) if data.scope in RoundScope.values else RoundScope.STREET)
    if needed and getattr(data, needed[0]) is None:
        errors[needed[0].removesuffix("_id")] = [needed[1]]
    if errors:
        raise ValidationError(errors)
    return SupplyRound.objects.create(
        street_id=street_id,
        scope=data.scope,
        community_id=data.community_id,
        compound_id=data.compound_id,
        building_id=data.building_id,
        organiser=data.organiser,
        title=data.title.strip()[:100],
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        delivery_date=data.delivery_date,
        intake=data.intake,
        allocation_seed=random.SystemRandom().randrange(1, 2**31),
        created_by=actor,
    )


@transaction.atomic
def offer_add(
    *, actor: User, round: SupplyRound, package: Package, stock: int, per_household_limit: int = 1
) -> Offer:
    errors: Errors = {}
    if round.status not in (RoundStatus.DRAFT, RoundStatus.OPEN):
        errors["round"] = [_("轮次已截单，不能再加供应")]
    if not package.active:
        errors["package"] = [_("该套餐包已下架")]
    if stock < 1:
        errors["stock"] = [_("库存至少为 1")]
    if not 1 <= per_household_limit <= 99:
        errors["per_household_limit"] = [_("每户限购应在 1 到 99 之间")]
    if Offer.objects.filter(round=round, package=package).exists():
        errors["package"] = [_("本轮已有这个套餐包")]
    if errors:
        raise ValidationError(errors)
    return Offer.objects.create(
        round=round,
        package=package,
        stock=stock,
        remaining=stock,
        per_household_limit=per_household_limit,
        price_fen=package.price_fen,
        net_weight_g=package.net_weight_g,
    )


def _move_round(round: SupplyRound, to: str, actor: User) -> SupplyRound:
    if not round.can_become(to):
        message = _("轮次当前为“%(status)s”，不能改为“%(to)s”")
        raise ValidationError(
            {
                "status": [
                    message % {"status": round.get_status_display(), "to": RoundStatus(to).label}
                ]
            }
        )
    changed = SupplyRound.objects.filter(pk=round.pk, status=round.status).update(
        status=to, status_changed_at=timezone.now(), status_changed_by=actor
    )
    if not changed:
        raise ValidationError({"status": [_("轮次刚被他人更新，请刷新后再试")]})
    round.refresh_from_db()
    return round


@transaction.atomic
def round_open(*, actor: User, round: SupplyRound) -> SupplyRound:
    if not round.offers.exists():
        raise ValidationError({"offers": [_("请先添加至少一个供应套餐")]})
    return _move_round(round, RoundStatus.OPEN, actor)


@transaction.atomic
def round_close(*, actor: User, round: SupplyRound) -> SupplyRound:
    """Stop taking orders; in a fair round, share the stock out now."""
    round = _move_round(round, RoundStatus.CLOSED, actor)
    allocate_round(actor=actor, round=round)
    return round


@transaction.atomic
def round_copy(*, actor: User, round: SupplyRound, opens_at: dt.datetime) -> SupplyRound:
    """Start the next round ("every two days") with the same scope, intake and offers."""
    shift = opens_at - round.opens_at
    copy = round_create(
        actor=actor,
        street_id=round.street_id,
        data=RoundInput(
            title=round.title,
            scope=round.scope,
            opens_at=opens_at,
            closes_at=round.closes_at + shift,
            delivery_date=round.delivery_date + dt.timedelta(days=shift.days),
            intake=round.intake,
            community_id=round.community_id,
            compound_id=round.compound_id,
            building_id=round.building_id,
            organiser=round.organiser,
        ),
    )
    copy.copied_from = round
    copy.save(update_fields=["copied_from"])
    for offer in round.offers.select_related("package"):
        if offer.package.active:
            offer_add(
                actor=actor,
                round=copy,
                package=offer.package,
                stock=offer.stock,
                per_household_limit=offer.per_household_limit,
            )
    return copy


# --- orders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemInput:
    offer: Offer
    quantity: int


def _check_items(round: SupplyRound, items: Sequence[ItemInput]) -> Errors:
    errors: Errors = {}
    if not items:
        errors["items"] = [_("请至少选择一个套餐包")]
    seen: set[int] = set()
    for item in items:
        name = item.offer.package.name
        if item.offer.round_id != round.pk:
            errors["items"] = [_("%(name)s 不在本轮供应中") % {"name": name}]
        elif item.offer.pk in seen:
            errors["items"] = [_("%(name)s 重复") % {"name": name}]
        elif item.quantity < 1:
            errors["items"] = [_("%(name)s 数量至少为 1") % {"name": name}]
        elif item.quantity > item.offer.per_household_limit:
            errors["items"] = [
                _("%(name)s 超过每户限购 %(limit)d 份")
                % {"name": name, "limit": item.offer.per_household_limit}
            ]
        seen.add(item.offer.pk)
    return errors


def _check_window(round: SupplyRound, household: Household) -> Errors:
    if round.status != RoundStatus.OPEN or not round.window_open():
        if round.status == RoundStatus.OPEN and timezone.now() < round.opens_at:
            return {"round": [_("尚未开始接单")]}
        return {"round": [_("本轮已截单")]}
    if not round.serves(household):
        return {"household": [_("%(address)s 不在本轮供应范围内") % {"address": household.address}]}
    return {}


def _take_stock(round: SupplyRound, changes: dict[int, int], names: dict[int, str]) -> None:
    """Apply stock changes (offer id → units taken, negative to give back) in offer order."""
    if round.intake != Intake.FIRST_COME:
        return
    for offer_id in sorted(changes):
        delta = changes[offer_id]
        if delta > 0:
            taken = Offer.objects.filter(pk=offer_id, remaining__gte=delta).update(
                remaining=F("remaining") - delta
            )
            if not taken:
                raise ValidationError({"items": [_("%(name)s 已售罄") % {"name": names[offer_id]}]})
        elif delta < 0:
            Offer.objects.filter(pk=offer_id).update(remaining=F("remaining") - delta)


def _channel_for(actor: User, household: Household, channel: str | None) -> str:
    if channel:
        return channel
    with scopes_disabled():
        own = Resident.objects.filter(user=actor, household=household).exists()
    return Channel.RESIDENT if own else Channel.PROXY


def order_place(
    *,
    actor: User,
    round: SupplyRound,
    household: Household,
    items: Sequence[ItemInput],
    payment: str = Payment.ON_DELIVERY,
    channel: str | None = None,
    idempotency_key: str | None = None,
) -> Order:
    """Place a household's order (by the resident, or for them: 代下单, recorded as proxy
    with who). The same idempotency key sent again returns the order it made."""
    try:
        return _order_place(
            actor=actor,
            round=round,
            household=household,
            items=items,
            payment=payment,
            channel=channel,
            idempotency_key=idempotency_key,
        )
    except IntegrityError:
        # Two requests with one key, or two orders for one household, at the same moment.
        existing = _order_by_key(idempotency_key) if idempotency_key else None
        if existing is not None:
            return _same_order_or_refuse(existing, round, household)
        raise ValidationError({"household": [_("该户本轮已有订单，请修改原订单")]}) from None


def _order_by_key(key: str) -> Order | None:
    with scopes_disabled():
        return Order.objects.filter(idempotency_key=key).first()


def _same_order_or_refuse(order: Order, round: SupplyRound, household: Household) -> Order:
    if order.round_id != round.pk or order.household_id != household.pk:
        raise ValidationError({"idempotency_key": [_("该请求编号已用于另一个订单")]})
    return order


@transaction.atomic
def _order_place(
    *,
    actor: User,
    round: SupplyRound,
    household: Household,
    items: Sequence[ItemInput],
    payment: str,
    channel: str | None,
    idempotency_key: str | None,
) -> Order:
    if idempotency_key:
        # Looked up inside the transaction: a retry that waited for the first attempt's
        # commit finds its order here rather than "该户本轮已有订单".
        existing = _order_by_key(idempotency_key)
        if existing is not None:
            return _same_order_or_refuse(existing, round, household)
    errors = _check_window(round, household) or _check_items(round, items)
    if payment not in Payment.values:
        errors["payment"] = [_("请选择付款方式")]
    with scopes_disabled():
        if Order.objects.filter(
            round=round, household=household, status=OrderStatus.PLACED
        ).exists():
            errors["household"] = [_("该户本轮已有订单，请修改原订单")]
    if errors:
        raise ValidationError(errors)
    _take_stock(
        round,
        {item.offer.pk: item.quantity for item in items},
        {item.offer.pk: item.offer.package.name for item in items},
    )
    first_come = round.intake == Intake.FIRST_COME
    order = Order.objects.create(
        round=round,
        household=household,
        channel=_channel_for(actor, household, channel),
        payment=payment,
        placed_by=actor,
        idempotency_key=idempotency_key or None,
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            offer=item.offer,
            quantity=item.quantity,
            allocated=item.quantity if first_come else None,
            price_fen=item.offer.price_fen,
            net_weight_g=item.offer.net_weight_g,
        )
        for item in items
    )
    return order


@transaction.atomic
def order_change(*, actor: User, order: Order, items: Sequence[ItemInput]) -> Order:
    """Change what an order asks for, until the window closes (stock taken or given back)."""
    order = Order.objects.select_for_update().select_related("round", "household").get(pk=order.pk)
    round = order.round
    errors = _check_window(round, order.household) or _check_items(round, items)
    if order.status != OrderStatus.PLACED:
        errors["status"] = [_("订单已取消")]
    if errors:
        raise ValidationError(errors)
    before = dict(order.items.values_list("offer_id", "quantity"))
    after = {item.offer.pk: item.quantity for item in items}
    changes = {
        offer_id: after.get(offer_id, 0) - before.get(offer_id, 0)
        for offer_id in set(before) | set(after)
    }
    _take_stock(round, changes, {item.offer.pk: item.offer.package.name for item in items})
    first_come = round.intake == Intake.FIRST_COME
    order.items.exclude(offer_id__in=after).delete()
    for item in items:
        OrderItem.objects.update_or_create(
            order=order,
            offer=item.offer,
            defaults={
                "quantity": item.quantity,
                "allocated": item.quantity if first_come else None,
                "price_fen": item.offer.price_fen,
                "net_weight_g": item.offer.net_weight_g,
            },
        )
    order.updated_at = timezone.now()
    order.save(update_fields=["updated_at"])
    return order


@transaction.atomic
def order_cancel(*, actor: User, order: Order) -> Order:
    order = Order.objects.select_for_update().select_related("round", "household").get(pk=order.pk)
    if order.status == OrderStatus.CANCELLED:
        raise ValidationError({"status": [_("订单已取消")]})
    errors = _check_window(order.round, order.household)
    if errors:
        raise ValidationError(errors)
    _take_stock(order.round, {i.offer_id: -i.quantity for i in order.items.all()}, {})
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancelled_by = actor
    order.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    return order


# --- allocation -------------------------------------------------------------------------


@transaction.atomic
def allocate_round(*, actor: User, round: SupplyRound) -> SupplyRound:
    """Fair round: share each offer's stock by allocation.allocate and write the result and
    its reason on every item. First-come round: the stock was taken as orders came."""
    if round.intake != Intake.FAIR:
        return _move_round(round, RoundStatus.ALLOCATED, actor)
    with scopes_disabled():
        items = list(
            OrderItem.objects.filter(
                order__round=round, order__status=OrderStatus.PLACED
            ).select_related("order")
        )
        register = set(
            Resident.objects.on_register()
            .filter(household__orders__round=round)
            .values_list("household_id", flat=True)
        )
        by_offer: dict[int, list[OrderItem]] = {}
        for item in items:
            by_offer.setdefault(item.offer_id, []).append(item)
        for offer in round.offers.all():
            offer_items = by_offer.get(offer.pk, [])
            shares = allocation.allocate(
                [
                    allocation.Request(
                        item.order.household_id,
                        item.quantity,
                        item.order.household_id in register,
                    )
                    for item in offer_items
                ],
                offer.stock,
                seed=round.allocation_seed + offer.pk,
            )
            for item, share in zip(offer_items, shares, strict=True):
                item.allocated = share.allocated
                item.allocation_note = share.reason[:200]
            given = sum(share.allocated for share in shares)
            Offer.objects.filter(pk=offer.pk).update(remaining=offer.stock - given)
        OrderItem.objects.bulk_update(items, ["allocated", "allocation_note"], batch_size=2000)
    return _move_round(round, RoundStatus.ALLOCATED, actor)
