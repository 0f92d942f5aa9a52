"""Hand-off pages: per round and checkpoint, the suppliers' shipments, the goods hold, the
delivery bundles and how the doors went (round managers; keepers see their checkpoints'
shipments), and a supplier's own page to mark its goods dispatched per checkpoint."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints import access as checkpoint_access
from linli.checkpoints import actions as checkpoint_actions
from linli.checkpoints.models import Checkpoint
from linli.registry.access import request_user, require
from linli.supply import access, actions
from linli.supply.actions import CHECKPOINT_ORDER, served_building_ids
from linli.supply.choices import DeliveryStatus, OrderStatus, RoundStatus
from linli.supply.models import Order, OrderItem, Shipment, Supplier, SupplyRound
from linli.workforce import access as workforce_access
from linli.workforce.models import Task

# The round states in which goods move (before: nothing to send; after: all settled).
HANDOFF_STATUSES = (RoundStatus.ALLOCATED, RoundStatus.DISPATCHED, RoundStatus.DELIVERED)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


def _checkpoints(user: User, round: SupplyRound) -> list[Checkpoint]:
    ids, _uncovered = actions.round_checkpoint_ids(round)
    shipped = Shipment.objects.filter(round=round).values_list("checkpoint_id", flat=True)
    ids = sorted(set(ids) | set(shipped))
    return list(
        checkpoint_access.visible_checkpoints(user)
        .filter(pk__in=ids)
        .select_related("community", "compound")
        .order_by("compound__name", "name")
    )


def _shipments(round: SupplyRound) -> QuerySet[Shipment]:
    return Shipment.objects.filter(round=round).select_related(
        "supplier", "checkpoint", "goods", "dispatched_by"
    )


def _card(user: User, round: SupplyRound, checkpoint: Checkpoint, **extra: Any) -> dict[str, Any]:
    """What one checkpoint's card shows: shipments with the hold, suppliers still to send,
    delivery progress, failed doors (to those who see people) and the bundles.

    Counted in the database (an estate's checkpoint has thousands of orders): only the
    failed orders and the tasks are loaded as rows."""
    now = timezone.now()
    given = Coalesce("allocated", "quantity")
    with scopes_disabled():
        items = OrderItem.objects.filter(
            order__round=round,
            order__status=OrderStatus.PLACED,
            order__household__unit__building_id__in=served_building_ids(checkpoint),
        ).filter(Q(allocated__gt=0) | Q(allocated__isnull=True, quantity__gt=0))
        per_supplier = {
            row["offer__package__supplier_id"]: row
            for row in items.order_by()
            .values("offer__package__supplier_id")
            .annotate(units=Sum(given), households=Count("order_id", distinct=True))
        }
        # The orders that get anything (a fair round's order may get nothing at all).
        orders = Order.objects.filter(pk__in=items.values("order_id"))
        counts = Counter(
            dict(orders.order_by().values_list("delivery_status").annotate(n=Count("pk")))
        )
        ready = orders.filter(delivery_status=DeliveryStatus.RELEASED, task_stop__isnull=True)
        manager = access.can_manage_rounds(user)
        failed = (
            list(
                orders.filter(delivery_status=DeliveryStatus.FAILED)
                .select_related("household", "task_stop")
                .order_by(*CHECKPOINT_ORDER)
            )
            if manager and user.works_with_people
            else []
        )
        tasks = list(
            Task.objects.filter(
                pk__in=orders.filter(task_stop__isnull=False).values("task_stop__task_id")
            ).order_by("pk")
        )
        shipments = list(_shipments(round).filter(checkpoint=checkpoint))
        shipped = {s.supplier_id for s in shipments}
        to_send = list(Supplier.objects.filter(pk__in=set(per_supplier) - shipped).order_by("name"))
    units = {supplier_id: row["units"] for supplier_id, row in per_supplier.items()}
    return {
        "round": round,
        "checkpoint": checkpoint,
        "can_keep": checkpoint_access.can_keep(user, checkpoint),
        "can_manage": manager,
        "rows": [
            {
                "shipment": s,
                "goods": s.goods,
                "minutes_left": s.goods.minutes_left(now) if s.goods else None,
                "releasable": s.goods.releasable(now) if s.goods else False,
                "units": units.get(s.supplier_id, 0),
            }
            for s in shipments
        ],
        "to_send": [
            {
                "supplier": s,
                "units": units[s.pk],
                "households": per_supplier[s.pk]["households"],
            }
            for s in to_send
        ],
        "households": sum(counts.values()),
        "progress": {
            "delivered": counts[DeliveryStatus.DELIVERED],
            "failed": counts[DeliveryStatus.FAILED],
            "out": counts[DeliveryStatus.OUT_FOR_DELIVERY],
            "ready": ready.count(),
            "before": sum(
                counts[s]
                for s in (
                    DeliveryStatus.WAITING,
                    DeliveryStatus.DISPATCHED,
                    DeliveryStatus.AT_CHECKPOINT,
                )
            ),
        },
        # Addresses and reasons: for those who work with people, never for a keeper.
        "failed": failed,
        "tasks": tasks,
        **extra,
    }


@require(access.can_see_handoff)
def handoff_round(request: HttpRequest, pk: int) -> HttpResponse:
    """The round's hand-off, checkpoint by checkpoint (suppliers go to their own page)."""
    user = request_user(request)
    if user.role == Role.SUPPLIER:
        return redirect("supply:handoff_supplier", pk=pk)
    round = access.get_handoff_round_for(user, pk)
    # Goods released on the checkpoint page and doors settled by volunteers show up here.
    actions.shipments_sync(round)
    actions.orders_sync_deliveries(round, actor=user if access.can_manage_rounds(user) else None)
    round.refresh_from_db()
    _ids, uncovered = actions.round_checkpoint_ids(round)
    cards = [_card(user, round, c) for c in _checkpoints(user, round)]
    context = {
        "round": round,
        "cards": cards,
        "uncovered": uncovered if access.can_manage_rounds(user) else 0,
        "in_handoff": round.status in HANDOFF_STATUSES,
        "manager": access.can_manage_rounds(user),
    }
    return render(request, "supply/handoff_round.html", context)


def _card_response(
    request: HttpRequest, round: SupplyRound, checkpoint: Checkpoint, *, error: str = "", done: str
) -> HttpResponse:
    """The checkpoint's card again (HTMX), or back to the page; 400 with the reason."""
    user = request_user(request)
    if _is_htmx(request):
        context = _card(user, round, checkpoint, error=error, saved="" if error else done)
        return render(
            request,
            "supply/partials/handoff_checkpoint.html",
            context,
            status=400 if error else 200,
        )
    if error:
        context = {
            "round": round,
            "cards": [
                _card(user, round, c, error=error if c.pk == checkpoint.pk else "")
                for c in _checkpoints(user, round)
            ],
            "uncovered": 0,
            "in_handoff": True,
            "manager": access.can_manage_rounds(user),
        }
        return render(request, "supply/handoff_round.html", context, status=400)
    messages.success(request, done)
    return redirect("supply:handoff_round", pk=round.pk)


def _refusal(error: ValidationError) -> str:
    return "；".join(str(m) for m in error.messages)


@require(access.can_see_handoff)
@require_POST
def shipment_step(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """Receive, disinfect or release a shipment at the checkpoint."""
    user = request_user(request)
    shipment = access.get_shipment_for(user, pk)
    if not checkpoint_access.can_keep(user, shipment.checkpoint):
        raise PermissionDenied(_("只有本卡口的值守人员和社区工作人员可以操作"))
    done = {
        "receive": _("已接收，请消杀后静置"),
        "disinfect": _("已消杀，静置中"),
        "release": _("已放行，可以分拣到楼栋"),
    }
    if verb not in done:
        raise Http404(_("没有这个操作"))
    try:
        if verb == "receive":
            actions.shipment_receive(actor=user, shipment=shipment)
        elif verb == "disinfect":
            if shipment.goods is None:
                raise ValidationError({"status": [_("这批货尚未接收")]})
            with scopes_disabled():
                checkpoint_actions.goods_disinfect(actor=user, goods=shipment.goods)
        else:
            actions.shipment_release(actor=user, shipment=shipment)
    except ValidationError as e:
        return _card_response(
            request, shipment.round, shipment.checkpoint, error=_refusal(e), done=""
        )
    return _card_response(request, shipment.round, shipment.checkpoint, done=done[verb])


@require(access.can_manage_rounds)
@require_POST
def bundles_create(request: HttpRequest, pk: int, checkpoint_pk: int) -> HttpResponse:
    user = request_user(request)
    round = access.get_handoff_round_for(user, pk)
    checkpoint = checkpoint_access.get_checkpoint_for(user, checkpoint_pk)
    try:
        tasks = actions.bundles_create(actor=user, round=round, checkpoint=checkpoint)
    except ValidationError as e:
        return _card_response(request, round, checkpoint, error=_refusal(e), done="")
    done = _("已生成 %(n)d 个送货任务，志愿者可在任务板领取") % {"n": len(tasks)}
    return _card_response(request, round, checkpoint, done=done)


def _may_redeliver(user: User) -> bool:
    return access.can_manage_rounds(user) or workforce_access.can_dispatch(user)


@require(_may_redeliver)
@require_POST
def order_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    """Try a failed door again (the task reopened, or a new one for this door)."""
    user = request_user(request)
    order: Order = access.get_order_for(user, pk)
    try:
        task = actions.order_redeliver(actor=user, order=order)
    except ValidationError as e:
        messages.error(request, _refusal(e))
        return redirect("supply:handoff_round", pk=order.round_id)
    messages.success(request, _("已重新配送：任务“%(title)s”待志愿者领取") % {"title": task.title})
    return redirect("supply:handoff_round", pk=order.round_id)


# --- the supplier's page ------------------------------------------------------------------


def _supplier_for(request: HttpRequest, user: User) -> Supplier:
    """A supplier account: its own supplier (the first, or ?supplier=). A round manager:
    the supplier named by ?supplier= (dispatching for them)."""
    wanted = request.POST.get("supplier") or request.GET.get("supplier")
    if user.role == Role.SUPPLIER:
        suppliers = access.suppliers_of(user)
        supplier = suppliers.filter(pk=wanted).first() if wanted else suppliers.first()
        if supplier is None:
            raise Http404(_("未找到保供单位，或不是您的单位"))
        return supplier
    if not wanted:
        raise Http404(_("请指定保供单位"))
    return access.get_supplier_for(user, wanted)


def _supplier_rows(round: SupplyRound, supplier: Supplier) -> list[dict[str, Any]]:
    """Per checkpoint the supplier's packages go to: households, units, the shipment."""
    ids, _uncovered = actions.round_checkpoint_ids(round)
    rows = []
    with scopes_disabled():
        checkpoints = list(
            Checkpoint.objects.filter(pk__in=ids).select_related("compound").order_by("pk")
        )
        shipments = {
            s.checkpoint_id: s
            for s in Shipment.objects.filter(round=round, supplier=supplier).select_related("goods")
        }
    for checkpoint in checkpoints:
        orders = [
            o
            for o in actions.checkpoint_orders(round, checkpoint)
            if supplier.pk in actions.order_units(o)
        ]
        if not orders:
            continue
        packages: Counter[str] = Counter()
        for order in orders:
            for item in order.items.all():
                given = item.allocated if item.allocated is not None else item.quantity
                if given and item.offer.package.supplier_id == supplier.pk:
                    packages[item.offer.package.name] += given
        rows.append(
            {
                "checkpoint": checkpoint,
                "households": len(orders),
                "units": sum(packages.values()),
                "packages": sorted(packages.items()),
                "shipment": shipments.get(checkpoint.pk),
            }
        )
    return rows


@require(access.can_see_handoff)
def handoff_supplier(request: HttpRequest, pk: int) -> HttpResponse:
    """A supplier's shipments for the round: what goes to each checkpoint, and dispatch."""
    user = request_user(request)
    round = access.get_round_for(user, pk)
    supplier = _supplier_for(request, user)
    return _supplier_page(request, user, round, supplier)


def _supplier_page(
    request: HttpRequest,
    user: User,
    round: SupplyRound,
    supplier: Supplier,
    *,
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "round": round,
        "supplier": supplier,
        "rows": _supplier_rows(round, supplier),
        "errors": errors or {},
        "can_dispatch": access.can_dispatch_for(user, supplier)
        and round.status in (RoundStatus.ALLOCATED, RoundStatus.DISPATCHED),
    }
    return render(request, "supply/handoff_supplier.html", context, status=status)


@require(access.can_see_handoff)
@require_POST
def shipment_dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = access.get_round_for(user, pk)
    supplier = _supplier_for(request, user)
    if not access.can_dispatch_for(user, supplier):
        raise PermissionDenied(_("只有该保供单位的账号或轮次管理人员可以发货"))
    raw_checkpoint = request.POST.get("checkpoint", "")
    ids, _uncovered = actions.round_checkpoint_ids(round)
    with scopes_disabled():
        checkpoint = (
            Checkpoint.objects.filter(pk__in=ids, pk=raw_checkpoint)
            .select_related("community", "compound")
            .first()
            if raw_checkpoint.isdigit()
            else None
        )
    if checkpoint is None:
        raise Http404(_("未找到卡口，或本轮没有送往该卡口的订单"))
    raw_bags = request.POST.get("bags", "").strip()
    try:
        if not raw_bags.isdigit():
            raise ValidationError({"bags": [_("件数：请填写整数")]})
        actions.shipment_dispatch(
            actor=user, round=round, supplier=supplier, checkpoint=checkpoint, bags=int(raw_bags)
        )
    except ValidationError as e:
        return _supplier_page(
            request, user, round, supplier, errors={checkpoint.pk: _refusal(e)}, status=400
        )
    messages.success(
        request,
        _("已发往%(checkpoint)s：%(bags)s 件") % {"checkpoint": checkpoint, "bags": raw_bags},
    )
    if user.role == Role.SUPPLIER:
        url = reverse("supply:handoff_supplier", kwargs={"pk": round.pk})
        return redirect(f"{url}?supplier={supplier.pk}")
    return redirect("supply:handoff_round", pk=round.pk)
