"""`linli orders …`: a round's orders, placing one for a household (代下单, or a resident's own),
changing, cancelling, and where an order is — the same access and actions as the pages."""

from __future__ import annotations

import argparse

from django.core.management.base import CommandError
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    format_fields,
    positive_int,
    require,
    when,
)
from linli.lib.masking import mask_name
from linli.lib.money import fen_to_yuan
from linli.registry.models import Household, Resident
from linli.supply import access, actions
from linli.supply.choices import Channel, OrderStatus, Payment
from linli.supply.forms import items_from_pairs
from linli.supply.models import Order, OrderItem


def item_pair(text: str) -> tuple[int, int]:
    """OFFER_ID:QTY, e.g. 12:2."""
    offer, sep, quantity = text.partition(":")
    if not sep or not offer.strip().isdigit() or not quantity.strip().isdigit():
        raise argparse.ArgumentTypeError(
            _("应为 供应id:份数，例如 12:2：%(value)s") % {"value": text}
        )
    return int(offer), int(quantity)


def _orderer(actor: User) -> None:
    require(
        access.can_order_for_others(actor) or actor.role == Role.RESIDENT,
        _("您的角色不能下单"),
    )


def _lines(items: list[OrderItem]) -> str:
    return "、".join(
        f"{i.offer.package.name}×{i.quantity}"
        + (f"→{i.allocated}" if i.allocated is not None and i.allocated != i.quantity else "")
        + (_("（爱心包）") if i.care_plan_id else "")
        for i in items
    )


def _items(order: Order) -> list[OrderItem]:
    return list(
        OrderItem._base_manager.filter(order_id=order.pk)
        .select_related("offer__package")
        .order_by("offer__package__category", "offer__package__name")
    )


class Command(SubcommandCommand):
    help = "订单：列出轮次的订单、为住户下单（代下单）、修改、取消、查看配送状态。"

    def add_subcommands(self) -> None:
        listing = self.subcommand("list", _("列出一个轮次的订单"), write=False)
        listing.add_argument("round", help=_("轮次 id"))
        listing.add_argument("--status", choices=OrderStatus.values, default=OrderStatus.PLACED)
        listing.add_argument("--limit", type=positive_int, default=200)

        place = self.subcommand("place", _("为住户下单（代下单记录操作人）"), write=True)
        place.add_argument("round", help=_("轮次 id"))
        place.add_argument("--household", required=True, help=_("住户 id"))
        place.add_argument(
            "--item",
            required=True,
            nargs="+",
            type=item_pair,
            help=_("供应id:份数，可多个，例如 --item 12:2 13:1"),
        )
        place.add_argument("--payment", choices=Payment.values, default=Payment.ON_DELIVERY)
        place.add_argument("--key", help=_("幂等键：同一个键重复执行只生成一个订单"))

        change = self.subcommand("change", _("修改订单（整单替换套餐和份数）"), write=True)
        change.add_argument("order", help=_("订单 id"))
        change.add_argument("--item", nargs="+", type=item_pair, help=_("供应id:份数"))
        change.add_argument("--payment", choices=Payment.values)

        cancel = self.subcommand("cancel", _("取消订单"), write=True)
        cancel.add_argument("order", help=_("订单 id"))

        status = self.subcommand("status", _("订单在哪里：配送状态、取货码、分配说明"), write=False)
        status.add_argument("order", help=_("订单 id"))

    # --- reading ----------------------------------------------------------------------

    def do_list(self, actor: User, options: Options) -> None:
        round = access.get_round_for(actor, options["round"])
        supplier = actor.role == Role.SUPPLIER and not actor.is_superuser
        items = OrderItem._base_manager.select_related("offer__package").order_by(
            "offer__package__category", "offer__package__name"
        )
        if supplier:
            with scopes_disabled():
                suppliers = access.suppliers_of(actor)
                orders = Order.objects.filter(
                    round=round, items__offer__package__supplier__in=suppliers
                ).distinct()
                items = items.filter(offer__package__supplier__in=suppliers)
                self._list(orders, items, options, supplier=True)
            return
        require(
            access.can_order_for_others(actor) or actor.role == Role.RESIDENT,
            _("您的角色无权查看订单"),
        )
        self._list(access.visible_orders(actor).filter(round=round), items, options)

    def _list(
        self,
        orders: QuerySet[Order],
        items: QuerySet[OrderItem],
        options: Options,
        *,
        supplier: bool = False,
    ) -> None:
        selected = (
            orders.filter(status=options["status"])
            .select_related("household", "placed_by")
            .prefetch_related(
                Prefetch("items", queryset=items, to_attr="item_list"),
                Prefetch(
                    "household__residents",
                    queryset=Resident._base_manager.order_by("pk"),
                    to_attr="people",
                ),
            )
            .order_by("household__unit_id", "household__room_sort_key", "pk")
        )
        total = selected.count()
        rows = []
        for order in selected[: options["limit"]]:
            people: list[Resident] = getattr(order.household, "people", [])
            name = mask_name(people[0].name) if people else ""
            row: list[object] = [order.pk, order.household.address, name, _lines(order.item_list)]
            if not supplier:
                row += [
                    order.get_channel_display(),
                    order.placed_by or "",
                    order.get_payment_display(),
                ]
            row.append(order.get_delivery_status_display())
            rows.append(row)
        headers = ["ID", _("地址"), _("户主"), _("套餐")]
        if not supplier:
            headers += [_("渠道"), _("下单人"), _("付款")]
        headers.append(_("配送状态"))
        self.table(headers, rows)
        self.stdout.write(_("共 %(n)d 单，显示 %(shown)d 单") % {"n": total, "shown": len(rows)})

    def do_status(self, actor: User, options: Options) -> None:
        order = access.get_order_for(actor, options["order"])
        items = _items(order)
        self.stdout.write(
            format_fields(
                [
                    (_("订单"), order.pk),
                    (_("轮次"), order.round.title),
                    (_("地址"), order.household.address),
                    (_("状态"), order.get_status_display()),
                    (_("配送状态"), order.get_delivery_status_display()),
                    (_("更新时间"), when(order.delivery_status_at)),
                    (_("未送达原因"), order.delivery_failure),
                    (_("取货码"), order.pickup_code),
                    (_("付款方式"), order.get_payment_display()),
                    (_("套餐"), _lines(items)),
                ]
            )
        )
        notes = [(i.offer.package.name, i.allocation_note) for i in items if i.allocation_note]
        if notes:
            self.stdout.write("")
            self.table((_("套餐"), _("分配说明")), notes)

    # --- writing ----------------------------------------------------------------------

    def do_place(self, actor: User, options: Options) -> None:
        _orderer(actor)
        round = access.get_round_for(actor, options["round"])
        pk = options["household"]
        household = (
            Household.objects.select_related("community", "unit__building").filter(pk=pk).first()
            if str(pk).isdigit()
            else None
        )
        if household is None or not access.can_order_for(actor, household):
            raise CommandError(_("未找到住户 %(id)s，或不在您的管辖范围内") % {"id": pk})
        offers = list(round.offers.select_related("package"))
        order = actions.order_place(
            actor=actor,
            round=round,
            household=household,
            items=items_from_pairs(offers, options["item"]),
            payment=options["payment"],
            channel=Channel.RESIDENT if actor.role == Role.RESIDENT else Channel.PROXY,
            idempotency_key=options.get("key") or None,
        )
        self.done(
            _("订单 %(id)d：%(address)s %(items)s，取货码 %(code)s，应付 %(total)s")
            % {
                "id": order.pk,
                "address": household.address,
                "items": _lines(_items(order)),
                "code": order.pickup_code,
                "total": fen_to_yuan(_total(order)),
            }
        )

    def do_change(self, actor: User, options: Options) -> None:
        _orderer(actor)
        order = access.get_order_for(actor, options["order"])
        if not access.can_order_for(actor, order.household):
            raise CommandError(_("未找到，或不在您的管辖范围内"))
        if not options["item"] and not options["payment"]:
            raise CommandError(_("请用 --item 或 --payment 说明要改什么"))
        offers = list(order.round.offers.select_related("package"))
        pairs = options["item"] or [
            (i.offer_id, i.quantity) for i in _items(order) if i.care_plan_id is None
        ]
        order = actions.order_change(
            actor=actor,
            order=order,
            items=items_from_pairs(offers, pairs),
            payment=options["payment"],
        )
        self.done(
            _("订单 %(id)d 已修改：%(items)s，%(payment)s")
            % {
                "id": order.pk,
                "items": _lines(_items(order)),
                "payment": order.get_payment_display(),
            }
        )

    def do_cancel(self, actor: User, options: Options) -> None:
        _orderer(actor)
        order = access.get_order_for(actor, options["order"])
        if not access.can_order_for(actor, order.household):
            raise CommandError(_("未找到，或不在您的管辖范围内"))
        actions.order_cancel(actor=actor, order=order)
        self.done(_("订单 %(id)d 已取消") % {"id": order.pk})


def _total(order: Order) -> int:
    return sum(
        (i.quantity if i.allocated is None else i.allocated) * i.price_fen
        for i in _items(order)
        if i.care_plan_id is None
    )
