"""Writes for supply rounds: suppliers and packages, rounds and offers, orders, allocation.

Orders in a first-come round take stock with one conditional UPDATE per offer, in offer
order (so two orders never wait on each other's rows in opposite orders); the first offer
without enough left rolls the whole order back with "已售罄". An acknowledged order is
committed before the caller answers.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints import actions as checkpoint_actions
from linli.checkpoints.choices import GoodsStatus
from linli.checkpoints.models import Checkpoint
from linli.lib.language import in_default_language
from linli.registry.choices import CareTag, LivingStatus
from linli.registry.models import (
    Building,
    CareTagAssignment,
    Community,
    Compound,
    Household,
    Resident,
)
from linli.supply import allocation
from linli.supply.choices import (
    Category,
    Channel,
    DeliveryStatus,
    Intake,
    OrderStatus,
    Payment,
    RoundScope,
    RoundStatus,
    ShipmentStatus,
    SupplierKind,
)
from linli.supply.models import (
    CarePlan,
    Offer,
    Order,
    OrderItem,
    Package,
    Shipment,
    Supplier,
    SupplyRound,
)
from linli.workforce import actions as workforce_actions
from linli.workforce.choices import StopStatus, TaskKind, TaskStatus
from linli.workforce.models import Task, TaskStop

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
        community_id=_round_community_id(data),
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


def _round_community_id(data: RoundInput) -> int | None:
    """A compound's or a building's round belongs to that place's community, so that it is
    seen by that community only (not by the whole street)."""
    if data.scope == RoundScope.COMPOUND and data.compound_id:
        return Compound._base_manager.values_list("community_id", flat=True).get(
            pk=data.compound_id
        )
    if data.scope == RoundScope.BUILDING and data.building_id:
        return Building._base_manager.values_list("compound__community_id", flat=True).get(
            pk=data.building_id
        )
    return data.community_id


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
    return allocate_round(actor=actor, round=round)


@transaction.atomic
def round_copy(*, actor: User, round: SupplyRound, opens_at: dt.datetime) -> SupplyRound:
    """Start the next round ("every two days") with the same scope, intake and offers."""
    shift = opens_at - round.opens_at
    # Calendar days in Shanghai: opening at 05:59 instead of 06:00 two days on is still
    # two days on (shift.days would floor it to one).
    days = (timezone.localtime(opens_at).date() - timezone.localtime(round.opens_at).date()).days
    copy = round_create(
        actor=actor,
        street_id=round.street_id,
        data=RoundInput(
            title=round.title,
            scope=round.scope,
            opens_at=opens_at,
            closes_at=round.closes_at + shift,
            delivery_date=round.delivery_date + dt.timedelta(days=days),
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
        not_yet = round.status == RoundStatus.DRAFT or timezone.now() < round.opens_at
        if not_yet and round.status in (RoundStatus.DRAFT, RoundStatus.OPEN):
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
    # The plain manager and no ordering: one indexed lookup, no scope or ordering joins.
    found = list(Order._base_manager.filter(idempotency_key=key).order_by()[:1])
    return found[0] if found else None


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
    # A second order for the household is refused by the partial UNIQUE index at INSERT
    # (IntegrityError → "该户本轮已有订单" in order_place): no extra read under the lock.
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
def order_change(
    *, actor: User, order: Order, items: Sequence[ItemInput], payment: str | None = None
) -> Order:
    """Change what an order asks for, until the window closes (stock taken or given back);
    `payment`, when given, changes how it is paid (货到付款 → 线上已付)."""
    order = Order.objects.select_for_update().select_related("round", "household").get(pk=order.pk)
    round = order.round
    errors = _check_window(round, order.household) or _check_items(round, items)
    if order.status != OrderStatus.PLACED:
        errors["status"] = [_("订单已取消")]
    if payment is not None and payment not in Payment.values:
        errors["payment"] = [_("请选择付款方式")]
    if errors:
        raise ValidationError(errors)
    # Care packages (爱心包) on the order are given, not asked for: they stay as they are.
    care = dict(
        order.items.filter(care_plan__isnull=False).values_list("offer_id", "offer__package__name")
    )
    given = [name for offer_id, name in care.items() if any(i.offer.pk == offer_id for i in items)]
    if given:
        raise ValidationError({"items": [_("%(name)s 已作为爱心包免费发放") % {"name": given[0]}]})
    before = dict(order.items.filter(care_plan__isnull=True).values_list("offer_id", "quantity"))
    after = {item.offer.pk: item.quantity for item in items}
    changes = {
        offer_id: after.get(offer_id, 0) - before.get(offer_id, 0)
        for offer_id in set(before) | set(after)
    }
    _take_stock(round, changes, {item.offer.pk: item.offer.package.name for item in items})
    first_come = round.intake == Intake.FIRST_COME
    order.items.filter(care_plan__isnull=True).exclude(offer_id__in=after).delete()
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
    if payment is not None:
        order.payment = payment
    order.save(update_fields=["updated_at", "payment"])
    return order


@transaction.atomic
def order_cancel(*, actor: User, order: Order) -> Order:
    order = Order.objects.select_for_update().select_related("round", "household").get(pk=order.pk)
    if order.status == OrderStatus.CANCELLED:
        raise ValidationError({"status": [_("订单已取消")]})
    errors = _check_window(order.round, order.household)
    if errors:
        raise ValidationError(errors)
    care = order.items.filter(care_plan__isnull=False)
    if care.exists():
        # A care package is given, not ordered: cancelling gives back what was bought and
        # keeps the order for the care package alone.
        bought = order.items.filter(care_plan__isnull=True)
        _take_stock(order.round, {i.offer_id: -i.quantity for i in bought}, {})
        bought.delete()
        order.payment = Payment.FREE
        order.updated_at = timezone.now()
        order.save(update_fields=["payment", "updated_at"])
        return order
    _take_stock(order.round, {i.offer_id: -i.quantity for i in order.items.all()}, {})
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancelled_by = actor
    order.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    return order


# --- allocation -------------------------------------------------------------------------


def _write_allocations(items: Sequence[OrderItem]) -> None:
    """Each item's share and reason, one UPDATE per item sent with executemany. Django's
    bulk_update builds a CASE over every row of a batch: ~1 ms an item, 100 s for a street
    round of 100,000 items, where this takes about a second."""
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} = %s, {} = %s WHERE {} = %s".format(  # noqa: S608 - names only
        quote(OrderItem._meta.db_table), quote("allocated"), quote("allocation_note"), quote("id")
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(i.allocated, i.allocation_note, i.pk) for i in items])


@in_default_language
@transaction.atomic
def allocate_round(*, actor: User, round: SupplyRound) -> SupplyRound:
    """Fair round: share each offer's stock by allocation.allocate and write the result and
    its reason on every item. First-come round: the stock was taken as orders came."""
    if round.intake != Intake.FAIR:
        return _move_round(round, RoundStatus.ALLOCATED, actor)
    with scopes_disabled():
        placed = OrderItem.objects.filter(order__round=round, order__status=OrderStatus.PLACED)
        # Care packages took their stock when given; the rest is shared out.
        care_units = dict(
            placed.filter(care_plan__isnull=False)
            .values("offer_id")
            .annotate(units=Sum("quantity"))
            .values_list("offer_id", "units")
        )
        items = list(placed.filter(care_plan__isnull=True).select_related("order"))
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
                offer.stock - care_units.get(offer.pk, 0),
                seed=round.allocation_seed + offer.pk,
            )
            for item, share in zip(offer_items, shares, strict=True):
                item.allocated = share.allocated
                item.allocation_note = share.reason[:200]
            given = sum(share.allocated for share in shares) + care_units.get(offer.pk, 0)
            Offer.objects.filter(pk=offer.pk).update(remaining=offer.stock - given)
        _write_allocations(items)
    return _move_round(round, RoundStatus.ALLOCATED, actor)


# --- care packages ----------------------------------------------------------------------


@in_default_language
@transaction.atomic
def care_plan_apply(
    *, actor: User, round: SupplyRound, offer: Offer, tags: list[str], funder: str
) -> CarePlan:
    """爱心包: one unit of the offer, free and paid by the funder, for every household of the
    round's scope with a living resident carrying any of the tags. A household without an
    order gets a care order; one with an order gets the item added to it; one that already
    has the offer is skipped, so applying the same plan twice gives nothing twice. Stock is
    taken at once (in either intake mode); if it is short, nothing is written."""
    errors: Errors = {}
    if round.status not in (RoundStatus.DRAFT, RoundStatus.OPEN):
        errors["round"] = [_("轮次已截单，不能再发放爱心包")]
    if offer.round_id != round.pk:
        errors["offer"] = [_("该套餐包不在本轮供应中")]
    tags = list(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))
    unknown = [tag for tag in tags if tag not in CareTag.values]
    if not tags:
        errors["tags"] = [_("请至少选择一个人群标签")]
    elif unknown:
        errors["tags"] = [_("没有这个人群标签：%(tag)s") % {"tag": unknown[0]}]
    funder = funder.strip()
    if not funder:
        errors["funder"] = [_("请填写出资方")]
    elif len(funder) > 100:
        errors["funder"] = [_("出资方不能超过 100 个字")]
    if errors:
        raise ValidationError(errors)
    with scopes_disabled():
        tagged = CareTagAssignment._base_manager.filter(
            resident__household=OuterRef("pk"), tag__in=tags
        ).exclude(resident__living_status__in=[LivingStatus.MOVED_OUT, LivingStatus.DECEASED])
        has_offer = OrderItem._base_manager.filter(
            order__household=OuterRef("pk"), order__status=OrderStatus.PLACED, offer=offer
        )
        households = list(
            round.households()
            .filter(Exists(tagged))
            .exclude(Exists(has_offer))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        plan = CarePlan.objects.create(
            round=round, offer=offer, tags=tags, funder=funder, created_by=actor
        )
        if households:
            taken = Offer.objects.filter(pk=offer.pk, remaining__gte=len(households)).update(
                remaining=F("remaining") - len(households)
            )
            if not taken:
                offer.refresh_from_db(fields=["remaining"])
                raise ValidationError(
                    {
                        "offer": [
                            _("%(name)s 库存不足：需要 %(need)d 份，只剩 %(left)d 份")
                            % {
                                "name": offer.package.name,
                                "need": len(households),
                                "left": offer.remaining,
                            }
                        ]
                    }
                )
            orders = dict(
                Order.objects.filter(
                    round=round, household_id__in=households, status=OrderStatus.PLACED
                ).values_list("household_id", "pk")
            )
            new = Order.objects.bulk_create(
                Order(
                    round=round,
                    household_id=pk,
                    channel=Channel.CARE,
                    payment=Payment.FREE,
                    placed_by=actor,
                    funder=funder,
                )
                for pk in households
                if pk not in orders
            )
            orders.update({order.household_id: order.pk for order in new})
            note = _("爱心包，出资方：%(funder)s") % {"funder": funder}
            OrderItem.objects.bulk_create(
                OrderItem(
                    order_id=orders[pk],
                    offer=offer,
                    quantity=1,
                    allocated=1,
                    allocation_note=note[:200],
                    price_fen=offer.price_fen,
                    net_weight_g=offer.net_weight_g,
                    care_plan=plan,
                )
                for pk in households
            )
        plan.households = len(households)
        plan.save(update_fields=["households"])
    return plan


# --- suppliers and packages -------------------------------------------------------------


@dataclass
class SupplierInput:
    name: str
    kind: str
    contact_name: str = ""
    contact_phone: str = ""
    communities: Sequence[Community] = ()
    accounts: Sequence[User] = ()
    active: bool = True


def _contact_phone(raw: str) -> tuple[str, str]:
    """A mobile or a landline (021-12345678): the digits kept, or an error."""
    text = raw.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text:
        return "", ""
    if any(ch not in "0123456789-+ ()" for ch in text) or not 7 <= len(digits) <= 15:
        return "", _("联系电话应为手机号或固定电话（7 到 15 位数字）")
    return text, ""


@transaction.atomic
def supplier_save(
    *, actor: User, street_id: int, data: SupplierInput, supplier: Supplier | None = None
) -> Supplier:
    """Create a supplier (保供单位) of a street, or change one: its service communities and
    the supplier accounts that act for it."""
    errors: Errors = {}
    name = data.name.strip()
    if supplier is not None:
        street_id = supplier.street_id
    if not name:
        errors["name"] = [_("请填写单位名称")]
    elif len(name) > 100:
        errors["name"] = [_("名称不能超过 100 个字")]
    elif (
        Supplier.objects.filter(street_id=street_id, name=name)
        .exclude(pk=supplier.pk if supplier else 0)
        .exists()
    ):
        errors["name"] = [_("本街道已有同名的保供单位")]
    if data.kind not in SupplierKind.values:
        errors["kind"] = [_("请选择单位类型")]
    phone, phone_error = _contact_phone(data.contact_phone)
    if phone_error:
        errors["contact_phone"] = [phone_error]
    if len(data.contact_name.strip()) > 64:
        errors["contact_name"] = [_("联系人不能超过 64 个字")]
    elsewhere = [c.name for c in data.communities if c.street_id != street_id]
    if elsewhere:
        errors["communities"] = [_("%(name)s 不在本街道") % {"name": elsewhere[0]}]
    not_supplier = [u.username for u in data.accounts if u.role != Role.SUPPLIER or not u.is_active]
    if not_supplier:
        errors["accounts"] = [_("账号 %(name)s 不是有效的保供单位账号") % {"name": not_supplier[0]}]
    if errors:
        raise ValidationError(errors)
    if supplier is None:
        supplier = Supplier(street_id=street_id)
    supplier.name = name
    supplier.kind = data.kind
    supplier.contact_name = data.contact_name.strip()
    supplier.contact_phone = phone
    supplier.active = data.active
    supplier.save()
    supplier.communities.set(data.communities)
    supplier.accounts.set(data.accounts)
    return supplier


@dataclass
class PackageInput:
    name: str
    category: str
    net_weight_g: int
    price_fen: int
    contents: str = ""
    active: bool = True


@transaction.atomic
def package_save(
    *,
    actor: User,
    supplier: Supplier,
    data: PackageInput,
    package: Package | None = None,
    photo: File[bytes] | None = None,
) -> Package:
    """A fixed pack of a supplier: what is in it, its weight in grams and price in fen.
    Rounds keep the price and weight they were offered at."""
    errors: Errors = {}
    name = data.name.strip()
    if package is not None:
        supplier = package.supplier
    if not name:
        errors["name"] = [_("请填写套餐名称")]
    elif len(name) > 100:
        errors["name"] = [_("名称不能超过 100 个字")]
    elif (
        Package.objects.filter(supplier=supplier, name=name)
        .exclude(pk=package.pk if package else 0)
        .exists()
    ):
        errors["name"] = [_("该单位已有同名的套餐包")]
    if data.category not in Category.values:
        errors["category"] = [_("请选择品类")]
    if not 1 <= data.net_weight_g <= 1_000_000:
        errors["net_weight_g"] = [_("净重应在 1 克到 1000 千克之间")]
    if not 0 <= data.price_fen <= 100_000_000:
        errors["price_fen"] = [_("价格应在 0 到 100 万元之间")]
    if len(data.contents) > 2000:
        errors["contents"] = [_("内容不能超过 2000 个字")]
    if errors:
        raise ValidationError(errors)
    if package is None:
        package = Package(supplier=supplier)
    package.name = name
    package.category = data.category
    package.net_weight_g = data.net_weight_g
    package.price_fen = data.price_fen
    package.contents = data.contents.strip()
    package.active = data.active
    if photo is not None:
        package.photo.save(getattr(photo, "name", None) or "package.jpg", photo, save=False)
    package.save()
    return package


# --- hand-off ---------------------------------------------------------------------------
#
# Supplier dispatches its goods for one checkpoint (a Shipment) → the keeper receives them
# (a checkpoints GoodsReceipt: disinfect, hold, release) → sorted into delivery bundles per
# building (task-board tasks with one door per household) → each door delivered or failed.
# An order's delivery_status follows the least advanced of its suppliers' shipments until
# it is bundled, then its door (TaskStop). The checkpoints and workforce apps cannot import
# supply, so supply catches up with them: shipments_sync (goods released on the checkpoint
# page) and orders_sync_deliveries (doors settled by volunteers) are called by whatever
# shows or counts hand-off state.

# A building with more households on it than this gets one bundle per unit.
BUNDLE_MAX_HOUSEHOLDS = 20

# The stages an order passes before it is bundled, in order.
_STAGES: list[str] = [
    DeliveryStatus.WAITING,
    DeliveryStatus.DISPATCHED,
    DeliveryStatus.AT_CHECKPOINT,
    DeliveryStatus.RELEASED,
]
_SHIPMENT_STAGE: dict[str, str] = {
    ShipmentStatus.DISPATCHED: DeliveryStatus.DISPATCHED,
    ShipmentStatus.RECEIVED: DeliveryStatus.AT_CHECKPOINT,
    ShipmentStatus.RELEASED: DeliveryStatus.RELEASED,
    ShipmentStatus.BUNDLED: DeliveryStatus.RELEASED,
}
_STOP_OUTCOME: dict[str, str] = {
    StopStatus.DELIVERED: DeliveryStatus.DELIVERED,
    StopStatus.LEFT_AT_DOOR: DeliveryStatus.DELIVERED,
    StopStatus.FAILED: DeliveryStatus.FAILED,
    StopStatus.PENDING: DeliveryStatus.OUT_FOR_DELIVERY,
}


def served_building_ids(checkpoint: Checkpoint) -> list[int]:
    """The buildings whose goods go through this checkpoint. A building that several
    checkpoints list is served by the first of them (lowest id), so it is counted once."""
    links = Checkpoint.buildings.through.objects
    ids = set(links.filter(checkpoint_id=checkpoint.pk).values_list("building_id", flat=True))
    earlier = set(
        links.filter(building_id__in=ids, checkpoint_id__lt=checkpoint.pk).values_list(
            "building_id", flat=True
        )
    )
    return sorted(ids - earlier)


def round_checkpoint_ids(round: SupplyRound) -> tuple[list[int], int]:
    """The checkpoints the round's orders go through, and how many orders no checkpoint
    serves (their building is on no checkpoint: staff must add it before dispatch)."""
    with scopes_disabled():
        buildings = Counter(
            Order.objects.filter(round=round, status=OrderStatus.PLACED).values_list(
                "household__unit__building_id", flat=True
            )
        )
        first: dict[int, int] = {}
        for building_id, checkpoint_id in Checkpoint.buildings.through.objects.filter(
            building_id__in=list(buildings)
        ).values_list("building_id", "checkpoint_id"):
            first[building_id] = min(checkpoint_id, first.get(building_id, checkpoint_id))
    uncovered = sum(n for building_id, n in buildings.items() if building_id not in first)
    return sorted(set(first.values())), uncovered


def order_units(order: Order) -> dict[int, int]:
    """Supplier id → units of its packages the household gets (allocated; first come: all).
    Needs the order's items with offer__package loaded."""
    units: dict[int, int] = {}
    for item in order.items.all():
        given = item.allocated if item.allocated is not None else item.quantity
        if given:
            supplier_id = item.offer.package.supplier_id
            units[supplier_id] = units.get(supplier_id, 0) + given
    return units


def order_items_text(order: Order) -> str:
    """What goes to the door, as the volunteer's list shows it: 蔬菜包×1、米面油套餐×1."""
    parts = []
    for item in order.items.all():
        given = item.allocated if item.allocated is not None else item.quantity
        if given:
            parts.append(f"{item.offer.package.name}×{given}")
    return "、".join(parts)


# A checkpoint's orders as its manifest and its keepers walk them: building, unit, room.
CHECKPOINT_ORDER = (
    "household__unit__building__sort_key",
    "household__unit__building_id",
    "household__unit__sort_key",
    "household__unit_id",
    "household__room_sort_key",
    "household__room",
)


def checkpoint_orders(round: SupplyRound, checkpoint: Checkpoint) -> list[Order]:
    """The round's placed orders that go through this checkpoint and get anything, by
    building, unit and room, with what the hand-off needs loaded."""
    with scopes_disabled():
        orders = list(
            Order.objects.filter(
                round=round,
                status=OrderStatus.PLACED,
                household__unit__building_id__in=served_building_ids(checkpoint),
            )
            .select_related(
                "household__unit__building__compound", "task_stop__task", "household__community"
            )
            .prefetch_related(
                Prefetch("items", queryset=OrderItem.objects.select_related("offer__package"))
            )
            .order_by(*CHECKPOINT_ORDER)
        )
    return [order for order in orders if order_units(order)]


def _advance(round: SupplyRound, checkpoint: Checkpoint, orders: Sequence[Order]) -> int:
    """Move each order to the stage its goods have reached: the least advanced of its
    suppliers' shipments to this checkpoint. Never backwards, never once bundled."""
    with scopes_disabled():
        shipments: dict[int, str] = dict(
            Shipment.objects.filter(round=round, checkpoint=checkpoint).values_list(
                "supplier_id", "status"
            )
        )
        now = timezone.now()
        changed = []
        for order in orders:
            if order.delivery_status not in _STAGES or order.task_stop_id is not None:
                continue
            stages = [
                _SHIPMENT_STAGE.get(shipments.get(supplier_id, ""), DeliveryStatus.WAITING)
                for supplier_id in order_units(order)
            ]
            stage = min(stages, key=_STAGES.index)
            if _STAGES.index(stage) > _STAGES.index(order.delivery_status):
                order.delivery_status = stage
                order.delivery_status_at = now
                changed.append(order)
        Order.objects.bulk_update(changed, ["delivery_status", "delivery_status_at"])
    return len(changed)


def _locked_shipment(shipment: Shipment) -> Shipment:
    return (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("round", "supplier", "checkpoint__community", "goods")
        .get(pk=shipment.pk)
    )


def _refuse_status(shipment: Shipment) -> ValidationError:
    return ValidationError(
        {"status": [_("这批货已是“%(status)s”") % {"status": shipment.get_status_display()}]}
    )


@transaction.atomic
def shipment_dispatch(
    *, actor: User, round: SupplyRound, supplier: Supplier, checkpoint: Checkpoint, bags: int
) -> Shipment:
    """The supplier's goods for one checkpoint are on the way. The first shipment of a
    round moves it from allocated to dispatched; its households see 已发货."""
    errors: Errors = {}
    if round.status not in (RoundStatus.ALLOCATED, RoundStatus.DISPATCHED):
        errors["round"] = [
            _("轮次当前为“%(status)s”，截单分配后才能发货") % {"status": round.get_status_display()}
        ]
    if bags < 1:
        errors["bags"] = [_("件数至少为 1")]
    with scopes_disabled():
        if Shipment.objects.filter(round=round, supplier=supplier, checkpoint=checkpoint).exists():
            errors["checkpoint"] = [_("已向%(checkpoint)s发过货") % {"checkpoint": checkpoint}]
    orders = [o for o in checkpoint_orders(round, checkpoint) if supplier.pk in order_units(o)]
    if not orders and "checkpoint" not in errors:
        errors["checkpoint"] = [
            _("%(checkpoint)s 没有%(supplier)s的订单")
            % {"checkpoint": checkpoint, "supplier": supplier.name}
        ]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    try:
        with transaction.atomic():
            shipment = Shipment.objects.create(
                round=round,
                supplier=supplier,
                checkpoint=checkpoint,
                bags=bags,
                dispatched_at=now,
                dispatched_by=actor,
            )
    except IntegrityError:  # the same dispatch pressed twice at once
        raise ValidationError(
            {"checkpoint": [_("已向%(checkpoint)s发过货") % {"checkpoint": checkpoint}]}
        ) from None
    # A conditional UPDATE, so two suppliers dispatching at once both succeed.
    SupplyRound.objects.filter(pk=round.pk, status=RoundStatus.ALLOCATED).update(
        status=RoundStatus.DISPATCHED, status_changed_at=now, status_changed_by=actor
    )
    round.refresh_from_db()
    _advance(round, checkpoint, orders)
    return shipment


@in_default_language
@transaction.atomic
def shipment_receive(*, actor: User, shipment: Shipment) -> Shipment:
    """The keeper takes the goods in: a goods receipt at the checkpoint (to be disinfected
    and held) for the buildings of the households on it; they see 已到卡口."""
    shipment = _locked_shipment(shipment)
    if shipment.status != ShipmentStatus.DISPATCHED:
        raise _refuse_status(shipment)
    orders = [
        o
        for o in checkpoint_orders(shipment.round, shipment.checkpoint)
        if shipment.supplier_id in order_units(o)
    ]
    buildings = {o.household.unit.building_id: o.household.unit.building for o in orders}
    with scopes_disabled():
        goods = checkpoint_actions.goods_receive(
            actor=actor,
            checkpoint=shipment.checkpoint,
            sender=shipment.supplier.name,
            count=shipment.bags,
            description=_("%(round)s：%(households)d 户的套餐包")
            % {"round": shipment.round.title, "households": len(orders)},
            buildings=[buildings[pk] for pk in sorted(buildings)],
        )
    shipment.goods = goods
    shipment.status = ShipmentStatus.RECEIVED
    shipment.save(update_fields=["goods", "status"])
    _advance(shipment.round, shipment.checkpoint, orders)
    return shipment


@transaction.atomic
def shipment_release(*, actor: User, shipment: Shipment) -> Shipment:
    """Release the shipment's goods (refused by the checkpoint before the hold ends) and
    tell its households 已放行. Goods already released on the checkpoint page are marked."""
    shipment = _locked_shipment(shipment)
    if shipment.status in (ShipmentStatus.RELEASED, ShipmentStatus.BUNDLED):
        raise _refuse_status(shipment)
    if shipment.status != ShipmentStatus.RECEIVED or shipment.goods is None:
        raise ValidationError({"status": [_("这批货尚未在卡口接收，不能放行")]})
    with scopes_disabled():
        if shipment.goods.status != GoodsStatus.RELEASED:
            checkpoint_actions.goods_release(actor=actor, goods=shipment.goods)
    shipment.status = ShipmentStatus.RELEASED
    shipment.save(update_fields=["status"])
    _advance(
        shipment.round, shipment.checkpoint, checkpoint_orders(shipment.round, shipment.checkpoint)
    )
    return shipment


@transaction.atomic
def shipments_sync(round: SupplyRound) -> int:
    """Mark shipments whose goods were released on the checkpoint's own page (which knows
    nothing of supply), and move their orders on. Returns how many were marked."""
    with scopes_disabled():
        released = list(
            Shipment.objects.select_for_update(of=("self",))
            .filter(
                round=round,
                status=ShipmentStatus.RECEIVED,
                goods__status=GoodsStatus.RELEASED,
            )
            .select_related("checkpoint")
        )
        Shipment.objects.filter(pk__in=[s.pk for s in released]).update(
            status=ShipmentStatus.RELEASED
        )
        checkpoints = {s.checkpoint_id: s.checkpoint for s in released}
    for checkpoint_id in sorted(checkpoints):
        checkpoint = checkpoints[checkpoint_id]
        _advance(round, checkpoint, checkpoint_orders(round, checkpoint))
    return len(released)


def _bundle(
    *, actor: User, round: SupplyRound, checkpoint: Checkpoint, orders: Sequence[Order], place: str
) -> Task:
    """One delivery task for these orders (one door each); the orders go out for delivery."""
    building = orders[0].household.unit.building
    bags = sum(sum(order_units(o).values()) for o in orders)
    task = workforce_actions.task_create(
        actor=actor,
        community=checkpoint.community,
        kind=TaskKind.DELIVERY_BUNDLE,
        title=_("%(round)s：%(place)s送货到户") % {"round": round.title, "place": place},
        description=_("在%(checkpoint)s取货，共 %(bags)d 件、%(households)d 户。")
        % {"checkpoint": checkpoint, "bags": bags, "households": len(orders)},
        buildings=[building],
        place=place,
        size=bags,
        stops=[
            workforce_actions.StopInput(household=o.household, items=order_items_text(o))
            for o in orders
        ],
    )
    with scopes_disabled():
        stops = {s.household_id: s for s in TaskStop.objects.filter(task=task)}
        now = timezone.now()
        for order in orders:
            order.task_stop = stops[order.household_id]
            order.delivery_status = DeliveryStatus.OUT_FOR_DELIVERY
            order.delivery_status_at = now
            order.delivery_failure = ""
        Order.objects.bulk_update(
            orders, ["task_stop", "delivery_status", "delivery_status_at", "delivery_failure"]
        )
    return task


@in_default_language
@transaction.atomic
def bundles_create(
    *,
    actor: User,
    round: SupplyRound,
    checkpoint: Checkpoint,
    max_households: int = BUNDLE_MAX_HOUSEHOLDS,
) -> list[Task]:
    """Sort the released goods to buildings: one delivery task per building (per unit in a
    building with more than `max_households` households on it), sized by bag count. Only
    orders whose every supplier's goods are released and that are not yet on a task; call
    again when a late supplier's goods are released."""
    shipments_sync(round)
    orders = checkpoint_orders(round, checkpoint)
    ready = [
        o for o in orders if o.task_stop_id is None and o.delivery_status == DeliveryStatus.RELEASED
    ]
    if not ready:
        waiting = sum(1 for o in orders if o.delivery_status in _STAGES[:-1])
        if waiting:
            message = _("还有 %(n)d 户的货未放行，暂无可分拣的订单") % {"n": waiting}
        else:
            message = _("没有待分拣的订单")
        raise ValidationError({"checkpoint": [message]})
    by_building: dict[int, list[Order]] = {}
    for order in ready:
        by_building.setdefault(order.household.unit.building_id, []).append(order)
    tasks = []
    for group in by_building.values():
        building = group[0].household.unit.building
        if len(group) <= max_households:
            tasks.append(
                _bundle(
                    actor=actor,
                    round=round,
                    checkpoint=checkpoint,
                    orders=group,
                    place=str(building),
                )
            )
            continue
        by_unit: dict[int, list[Order]] = {}
        for order in group:
            by_unit.setdefault(order.household.unit_id, []).append(order)
        for unit_orders in by_unit.values():
            place = f"{building}{unit_orders[0].household.unit.name}"
            tasks.append(
                _bundle(
                    actor=actor, round=round, checkpoint=checkpoint, orders=unit_orders, place=place
                )
            )
    # A shipment is bundled once every order it carries is on a task.
    bundled = {o.pk for o in orders if o.task_stop_id is not None}
    with scopes_disabled():
        for shipment in Shipment.objects.filter(
            round=round, checkpoint=checkpoint, status=ShipmentStatus.RELEASED
        ):
            carried = [o for o in orders if shipment.supplier_id in order_units(o)]
            if all(o.pk in bundled for o in carried):
                Shipment.objects.filter(pk=shipment.pk).update(status=ShipmentStatus.BUNDLED)
    return tasks


@transaction.atomic
def orders_sync_deliveries(round: SupplyRound, *, actor: User | None = None) -> int:
    """Read each bundled order's door: delivered (by code or left at the door), failed
    (with the volunteer's reason) or out again (a reopened task). A cancelled task puts its
    orders back to be bundled again. With an actor, a round whose every order is delivered
    moves on to delivered. Returns how many orders changed."""
    with scopes_disabled():
        # Only the orders whose door says something else than they do (a page view of a
        # large round reads a handful of rows, not every bundled order).
        delivered = [StopStatus.DELIVERED, StopStatus.LEFT_AT_DOOR]
        behind = (
            Q(task_stop__status__in=delivered) & ~Q(delivery_status=DeliveryStatus.DELIVERED)
            | Q(task_stop__status=StopStatus.FAILED)
            & (
                ~Q(delivery_status=DeliveryStatus.FAILED)
                | ~Q(delivery_failure=F("task_stop__failure_reason"))
            )
            | Q(task_stop__status=StopStatus.PENDING)
            & (
                ~Q(delivery_status=DeliveryStatus.OUT_FOR_DELIVERY)
                | Q(task_stop__task__status=TaskStatus.CANCELLED)
            )
        )
        orders = list(
            Order.objects.filter(round=round, status=OrderStatus.PLACED, task_stop__isnull=False)
            .filter(behind)
            .select_related("task_stop__task")
        )
        now = timezone.now()
        changed = []
        for order in orders:
            stop = order.task_stop
            assert stop is not None  # noqa: S101
            if stop.task.status == TaskStatus.CANCELLED and stop.status == StopStatus.PENDING:
                order.task_stop = None
                order.delivery_status = DeliveryStatus.RELEASED
                order.delivery_failure = ""
                order.delivery_status_at = now
                changed.append(order)
                continue
            status = _STOP_OUTCOME[stop.status]
            failure = stop.failure_reason[:200] if status == DeliveryStatus.FAILED else ""
            if (order.delivery_status, order.delivery_failure) == (status, failure):
                continue
            order.delivery_status = status
            order.delivery_failure = failure
            order.delivery_status_at = (
                stop.done_at if stop.done_at and stop.status != StopStatus.PENDING else now
            )
            changed.append(order)
        Order.objects.bulk_update(
            changed, ["task_stop", "delivery_status", "delivery_failure", "delivery_status_at"]
        )
        if actor is not None and round.status == RoundStatus.DISPATCHED:
            undelivered = (
                Order.objects.filter(round=round, status=OrderStatus.PLACED)
                .filter(Exists(OrderItem.objects.filter(order=OuterRef("pk"), allocated__gt=0)))
                .exclude(delivery_status=DeliveryStatus.DELIVERED)
            )
            if not undelivered.exists():
                _move_round(round, RoundStatus.DELIVERED, actor)
    return len(changed)


@in_default_language
@transaction.atomic
def order_redeliver(*, actor: User, order: Order) -> Task:
    """Try a failed door again: its task is reopened when every door on it failed (the
    other failed doors go out again with it), else a new task carries this order alone."""
    orders_sync_deliveries(order.round)
    with scopes_disabled():
        order = (
            Order.objects.select_related("round", "task_stop__task", "household__unit__building")
            .prefetch_related(
                Prefetch("items", queryset=OrderItem.objects.select_related("offer__package"))
            )
            .get(pk=order.pk)
        )
    if order.delivery_status != DeliveryStatus.FAILED or order.task_stop is None:
        raise ValidationError(
            {
                "status": [
                    _("只有未送达的订单可以重新配送（当前：%(status)s）")
                    % {"status": order.get_delivery_status_display()}
                ]
            }
        )
    task = order.task_stop.task
    if task.status == TaskStatus.FAILED:
        task = workforce_actions.task_reopen(actor=actor, task=task, reason=_("重新配送"))
    else:
        with scopes_disabled():
            checkpoint = Checkpoint.objects.select_related("community").get(
                pk=_checkpoint_id_of(order)
            )
        task = _bundle(
            actor=actor,
            round=order.round,
            checkpoint=checkpoint,
            orders=[order],
            place=str(order.household.unit.building),
        )
    orders_sync_deliveries(order.round)
    return task


def _checkpoint_id_of(order: Order) -> int:
    building_id = order.household.unit.building_id
    checkpoint_id: int | None = (
        Checkpoint.buildings.through.objects.filter(building_id=building_id)
        .order_by("checkpoint_id")
        .values_list("checkpoint_id", flat=True)
        .first()
    )
    if checkpoint_id is None:
        raise ValidationError({"household": [_("该户所在楼栋没有服务卡口")]})
    return checkpoint_id
