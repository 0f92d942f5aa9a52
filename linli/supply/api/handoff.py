"""Supply API: the hand-off chain. A supplier dispatches its goods per checkpoint; the
checkpoint's keeper receives, disinfects and releases them (not before the hold ends: the
400 says how many minutes are left); round managers bundle them into delivery tasks, read
the doors back (sync) and send a failed door out again."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from ninja import Field, Router, Schema, Status

from linli.accounts.api import api_user
from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints import access as checkpoint_access
from linli.checkpoints import actions as checkpoint_actions
from linli.checkpoints.models import Checkpoint
from linli.lib import rest
from linli.lib.rest import ERRORS, InputSchema, fields_renamed, local_time
from linli.supply import access, actions
from linli.supply.choices import DeliveryStatus
from linli.supply.models import Order, Shipment, SupplyRound
from linli.workforce import access as workforce_access
from linli.workforce.models import Task

router = Router(tags=["保供交接"])


class Ref(Schema):
    id: int
    name: str


class ShipmentOut(Schema):
    id: int
    round_id: int
    supplier: Ref
    checkpoint: Ref
    status: str
    status_label: str
    bags: int = Field(description="件数")
    dispatched_at: dt.datetime
    dispatched_by: str
    goods_id: int | None = Field(description="卡口物资接收记录（checkpoints 的 goods）")
    goods_status: str | None
    received_at: dt.datetime | None
    disinfected_at: dt.datetime | None
    hold_until: dt.datetime | None = Field(description="静置至（此前不能放行）")
    minutes_left: int | None = Field(description="距可放行还有几分钟；未消杀为 null")
    released_at: dt.datetime | None


class FailedOut(Schema):
    order_id: int
    address: str
    reason: str
    task_id: int | None


class TaskOut(Schema):
    id: int
    place: str
    size: int = Field(description="件数")
    status: str
    status_label: str


class CheckpointHandoffOut(Schema):
    checkpoint: Ref
    households: int = Field(description="经本卡口送货的户数")
    by_status: dict[str, int] = Field(description="各配送状态的户数")
    shipments: list[ShipmentOut]
    tasks: list[TaskOut]
    failed: list[FailedOut] = Field(description="未送达的户（仅对能查看住户的人员）")


class HandoffOut(Schema):
    round_id: int
    round_status: str
    uncovered: int = Field(description="所在楼栋没有服务卡口的订单数")
    checkpoints: list[CheckpointHandoffOut]


class DispatchIn(InputSchema):
    supplier_id: int = Field(description="保供单位")
    checkpoint_id: int = Field(description="送往的卡口")
    bags: int = Field(ge=1, description="件数")


class SyncOut(Schema):
    shipments_released: int = Field(description="在卡口页面放行、现已记入的发货数")
    orders_changed: int = Field(description="按送达点结果更新了配送状态的订单数")
    round_status: str


class OrderDeliveryOut(Schema):
    order_id: int
    delivery_status: str
    delivery_status_label: str
    delivery_status_at: dt.datetime | None
    delivery_failure: str
    task_id: int | None


def _shipment_out(shipment: Shipment) -> ShipmentOut:
    goods = shipment.goods
    return ShipmentOut(
        id=shipment.pk,
        round_id=shipment.round_id,
        supplier=Ref(id=shipment.supplier_id, name=shipment.supplier.name),
        checkpoint=Ref(id=shipment.checkpoint_id, name=str(shipment.checkpoint)),
        status=shipment.status,
        status_label=shipment.get_status_display(),
        bags=shipment.bags,
        dispatched_at=timezone.localtime(shipment.dispatched_at),
        dispatched_by=str(shipment.dispatched_by or ""),
        goods_id=goods.pk if goods else None,
        goods_status=goods.status if goods else None,
        received_at=local_time(goods.received_at) if goods else None,
        disinfected_at=local_time(goods.disinfected_at) if goods else None,
        hold_until=local_time(goods.hold_until) if goods else None,
        minutes_left=goods.minutes_left() if goods else None,
        released_at=local_time(goods.released_at) if goods else None,
    )


def _reload(shipment: Shipment) -> ShipmentOut:
    with scopes_disabled():
        fresh = Shipment.objects.select_related(
            "supplier", "checkpoint__compound", "goods", "dispatched_by"
        ).get(pk=shipment.pk)
        return _shipment_out(fresh)


def _task_out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.pk,
        place=task.place,
        size=task.size,
        status=task.status,
        status_label=task.get_status_display(),
    )


def _viewer(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_see_handoff(user), _("您的角色无权查看交接与配送"))
    return user


def _manager(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_manage_rounds(user), _("只有保供轮次的管理人员可以操作"))
    return user


def _checkpoint_handoff(
    user: User, round: SupplyRound, checkpoint: Checkpoint
) -> CheckpointHandoffOut:
    orders = actions.checkpoint_orders(round, checkpoint)
    by_status = dict.fromkeys(DeliveryStatus.values, 0)
    tasks: dict[int, Task] = {}
    for order in orders:
        by_status[order.delivery_status] += 1
        if order.task_stop is not None:
            tasks[order.task_stop.task_id] = order.task_stop.task
    shows_people = access.can_manage_rounds(user) and user.works_with_people
    with scopes_disabled():
        shipments = list(
            Shipment.objects.filter(round=round, checkpoint=checkpoint).select_related(
                "supplier", "checkpoint__compound", "goods", "dispatched_by"
            )
        )
    return CheckpointHandoffOut(
        checkpoint=Ref(id=checkpoint.pk, name=str(checkpoint)),
        households=len(orders),
        by_status=by_status,
        shipments=[_shipment_out(s) for s in shipments],
        tasks=[_task_out(t) for t in sorted(tasks.values(), key=lambda t: t.pk)],
        failed=[
            FailedOut(
                order_id=o.pk,
                address=o.household.address,
                reason=o.delivery_failure,
                task_id=o.task_stop.task_id if o.task_stop else None,
            )
            for o in orders
            if o.delivery_status == DeliveryStatus.FAILED
        ]
        if shows_people
        else [],
    )


@router.get("/rounds/{round_id}/handoff", response={200: HandoffOut, **ERRORS})
def handoff_detail(request: HttpRequest, round_id: int) -> HandoffOut:
    """Per checkpoint: shipments with the goods hold, delivery progress, bundles and failed
    doors (a keeper: the checkpoints they keep; a supplier: use /shipments)."""
    user = _viewer(request)
    round = access.get_handoff_round_for(user, round_id)
    actions.shipments_sync(round)
    actions.orders_sync_deliveries(round, actor=user if access.can_manage_rounds(user) else None)
    round.refresh_from_db()
    ids, uncovered = actions.round_checkpoint_ids(round)
    with scopes_disabled():
        shipped = set(Shipment.objects.filter(round=round).values_list("checkpoint_id", flat=True))
    checkpoints = (
        checkpoint_access.visible_checkpoints(user).filter(pk__in=set(ids) | shipped).order_by("pk")
    )
    return HandoffOut(
        round_id=round.pk,
        round_status=round.status,
        uncovered=uncovered if access.can_manage_rounds(user) else 0,
        checkpoints=[_checkpoint_handoff(user, round, c) for c in checkpoints],
    )


@router.get("/rounds/{round_id}/shipments", response={200: list[ShipmentOut], **ERRORS})
def shipment_list(request: HttpRequest, round_id: int) -> list[ShipmentOut]:
    """The round's shipments: a supplier its own, a keeper those to their checkpoints."""
    user = _viewer(request)
    round = access.get_handoff_round_for(user, round_id)
    with scopes_disabled():
        shipments = Shipment.objects.filter(round=round).select_related(
            "supplier", "checkpoint__compound", "goods", "dispatched_by"
        )
        if not user.is_superuser and user.role == Role.SUPPLIER:
            shipments = shipments.filter(supplier__in=access.suppliers_of(user))
        elif not access.can_manage_rounds(user):
            keeps = list(checkpoint_access.visible_checkpoints(user).values_list("pk", flat=True))
            shipments = shipments.filter(checkpoint_id__in=keeps)
        return [_shipment_out(s) for s in shipments.order_by("checkpoint_id", "supplier_id")]


@router.post("/rounds/{round_id}/shipments", response={201: ShipmentOut, **ERRORS})
def shipment_dispatch(
    request: HttpRequest, round_id: int, payload: DispatchIn
) -> Status[ShipmentOut]:
    """The supplier's goods for one checkpoint are on the way (its accounts, or round
    managers for it). The first shipment moves the round to dispatched."""
    user = _viewer(request)
    round = access.get_round_for(user, round_id)
    if user.role == Role.SUPPLIER:
        supplier = access.suppliers_of(user).filter(pk=payload.supplier_id).first()
        if supplier is None:
            raise Http404(_("未找到保供单位，或不是您的单位"))
    else:
        supplier = access.get_supplier_for(user, payload.supplier_id)
    rest.require(
        access.can_dispatch_for(user, supplier), _("只有该保供单位的账号或轮次管理人员可以发货")
    )
    ids, _uncovered = actions.round_checkpoint_ids(round)
    with scopes_disabled():
        checkpoint = (
            Checkpoint.objects.filter(pk=payload.checkpoint_id, pk__in=ids)
            .select_related("community", "compound")
            .first()
        )
    if checkpoint is None:
        raise Http404(_("未找到卡口，或本轮没有送往该卡口的订单"))
    with fields_renamed(checkpoint="checkpoint_id", round="round_id"):
        shipment = actions.shipment_dispatch(
            actor=user, round=round, supplier=supplier, checkpoint=checkpoint, bags=payload.bags
        )
    return Status(201, _reload(shipment))


def _keeper_shipment(request: HttpRequest, shipment_id: int) -> tuple[User, Shipment]:
    user = _viewer(request)
    shipment = access.get_shipment_for(user, shipment_id)
    rest.require(
        checkpoint_access.can_keep(user, shipment.checkpoint),
        _("只有本卡口的值守人员和社区工作人员可以操作"),
    )
    return user, shipment


@router.post("/shipments/{shipment_id}/receive", response={200: ShipmentOut, **ERRORS})
def shipment_receive(request: HttpRequest, shipment_id: int) -> ShipmentOut:
    """Received at the checkpoint: a goods receipt to disinfect and hold."""
    user, shipment = _keeper_shipment(request, shipment_id)
    return _reload(actions.shipment_receive(actor=user, shipment=shipment))


@router.post("/shipments/{shipment_id}/disinfect", response={200: ShipmentOut, **ERRORS})
def shipment_disinfect(request: HttpRequest, shipment_id: int) -> ShipmentOut:
    """Disinfected now: held for the community's hold time (default 120 minutes)."""
    user, shipment = _keeper_shipment(request, shipment_id)
    if shipment.goods is None:
        raise ValidationError({"status": [_("这批货尚未接收")]})
    with scopes_disabled():
        checkpoint_actions.goods_disinfect(actor=user, goods=shipment.goods)
    return _reload(shipment)


@router.post("/shipments/{shipment_id}/release", response={200: ShipmentOut, **ERRORS})
def shipment_release(request: HttpRequest, shipment_id: int) -> ShipmentOut:
    """Released to the buildings; before the hold ends a 400 says how many minutes are left."""
    user, shipment = _keeper_shipment(request, shipment_id)
    return _reload(actions.shipment_release(actor=user, shipment=shipment))


@router.post(
    "/rounds/{round_id}/checkpoints/{checkpoint_id}/bundles",
    response={201: list[TaskOut], **ERRORS},
)
def bundles_create(
    request: HttpRequest, round_id: int, checkpoint_id: int
) -> Status[list[TaskOut]]:
    """Sort the released goods into delivery tasks: one per building (per unit past 20
    households), sized by bag count, one door per household."""
    user = _manager(request)
    round = access.get_round_for(user, round_id)
    checkpoint = checkpoint_access.get_checkpoint_for(user, checkpoint_id)
    with fields_renamed(checkpoint="checkpoint_id"):
        tasks = actions.bundles_create(actor=user, round=round, checkpoint=checkpoint)
    return Status(201, [_task_out(t) for t in tasks])


@router.post("/rounds/{round_id}/handoff/sync", response={200: SyncOut, **ERRORS})
def handoff_sync(request: HttpRequest, round_id: int) -> SyncOut:
    """Take in goods released on the checkpoint pages and doors settled by volunteers."""
    user = _manager(request)
    round = access.get_round_for(user, round_id)
    released = actions.shipments_sync(round)
    changed = actions.orders_sync_deliveries(round, actor=user)
    round.refresh_from_db()
    return SyncOut(shipments_released=released, orders_changed=changed, round_status=round.status)


def _delivery_out(order: Order) -> OrderDeliveryOut:
    return OrderDeliveryOut(
        order_id=order.pk,
        delivery_status=order.delivery_status,
        delivery_status_label=order.get_delivery_status_display(),
        delivery_status_at=local_time(order.delivery_status_at),
        delivery_failure=order.delivery_failure,
        task_id=order.task_stop.task_id if order.task_stop else None,
    )


@router.get("/orders/{order_id}/delivery", response={200: OrderDeliveryOut, **ERRORS})
def order_delivery(request: HttpRequest, order_id: int) -> OrderDeliveryOut:
    """Where an order is (its household, those who order for it, round managers)."""
    user = api_user(request)
    order = access.get_order_for(user, order_id)
    actions.orders_sync_deliveries(order.round)
    with scopes_disabled():
        return _delivery_out(Order.objects.select_related("task_stop").get(pk=order.pk))


@router.post("/orders/{order_id}/redeliver", response={200: OrderDeliveryOut, **ERRORS})
def order_redeliver(request: HttpRequest, order_id: int) -> OrderDeliveryOut:
    """A failed door tried again: its task reopened, or a new task for this door."""
    user = api_user(request)
    rest.require(
        access.can_manage_rounds(user) or workforce_access.can_dispatch(user),
        _("您的角色无权重新派送"),
    )
    order = access.get_order_for(user, order_id)
    actions.order_redeliver(actor=user, order=order)
    with scopes_disabled():
        return _delivery_out(Order.objects.select_related("task_stop").get(pk=order.pk))
