"""`linli handoff …`: the hand-off chain of a supply round from the command line — show,
dispatch (supplier), receive / disinfect / release (checkpoint keeper), bundles and sync
(round managers), redeliver a failed door."""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints import access as checkpoint_access
from linli.checkpoints import actions as checkpoint_actions
from linli.checkpoints.models import Checkpoint
from linli.commandline import Options, SubcommandCommand, positive_int, require, when
from linli.supply import access, actions
from linli.supply.choices import ShipmentStatus
from linli.supply.models import Shipment, Supplier, SupplyRound
from linli.workforce import access as workforce_access


def _checkpoint_in_round(round: SupplyRound, pk: str) -> Checkpoint:
    ids, _uncovered = actions.round_checkpoint_ids(round)
    with scopes_disabled():
        checkpoint = (
            Checkpoint.objects.filter(pk=pk, pk__in=ids)
            .select_related("community", "compound")
            .first()
            if pk.isdigit()
            else None
        )
    if checkpoint is None:
        raise CommandError(_("本轮没有送往卡口 %(id)s 的订单") % {"id": pk})
    return checkpoint


class Command(SubcommandCommand):
    help = "保供交接：查看、发货、卡口接收/消杀/放行、分拣生成送货任务、同步送达结果、重新配送。"

    def add_subcommands(self) -> None:
        show = self.subcommand("show", _("查看轮次各卡口的发货、静置和配送进度"), write=False)
        show.add_argument("round", help=_("轮次 id"))

        dispatch = self.subcommand("dispatch", _("保供单位发货到一个卡口"), write=True)
        dispatch.add_argument("round", help=_("轮次 id"))
        dispatch.add_argument("--supplier", help=_("保供单位 id（保供单位账号可省略）"))
        dispatch.add_argument("--checkpoint", required=True, help=_("卡口 id"))
        dispatch.add_argument("--bags", required=True, type=positive_int, help=_("件数"))

        for name, label in (
            ("receive", _("卡口接收已发来的货")),
            ("disinfect", _("已消杀：开始静置")),
            ("release", _("静置期满，放行")),
        ):
            step = self.subcommand(name, label, write=True)
            self._shipment_arguments(step)

        bundles = self.subcommand("bundles", _("分拣到楼栋：生成送货任务"), write=True)
        bundles.add_argument("round", help=_("轮次 id"))
        bundles.add_argument("--checkpoint", required=True, help=_("卡口 id"))
        bundles.add_argument(
            "--max-households",
            type=positive_int,
            default=actions.BUNDLE_MAX_HOUSEHOLDS,
            help=_("一栋楼超过这么多户时按单元分任务"),
        )

        sync = self.subcommand("sync", _("同步卡口放行和送达结果"), write=True)
        sync.add_argument("round", help=_("轮次 id"))

        redeliver = self.subcommand("redeliver", _("未送达的订单重新配送"), write=True)
        redeliver.add_argument("order", help=_("订单 id"))

    def _shipment_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("round", help=_("轮次 id"))
        parser.add_argument("--checkpoint", required=True, help=_("卡口 id"))
        parser.add_argument("--supplier", help=_("只处理这个保供单位的货"))

    def _shipments(self, actor: User, options: Options, status: str) -> list[Shipment]:
        round = access.get_handoff_round_for(actor, options["round"])
        checkpoint = checkpoint_access.get_checkpoint_for(actor, options["checkpoint"])
        require(
            checkpoint_access.can_keep(actor, checkpoint),
            _("只有本卡口的值守人员和社区工作人员可以操作"),
        )
        shipments = Shipment.objects.filter(
            round=round, checkpoint=checkpoint, status=status
        ).select_related("supplier", "goods", "checkpoint__community", "round")
        if options.get("supplier"):
            shipments = shipments.filter(supplier_id=options["supplier"])
        found = list(shipments.order_by("supplier__name"))
        if not found:
            raise CommandError(
                _("%(checkpoint)s 没有状态为“%(status)s”的货")
                % {"checkpoint": checkpoint, "status": ShipmentStatus(status).label}
            )
        return found

    # --- reading ----------------------------------------------------------------------

    def do_show(self, actor: User, options: Options) -> None:
        require(access.can_see_handoff(actor) or actor.is_superuser, _("您的角色无权查看交接"))
        round = access.get_handoff_round_for(actor, options["round"])
        actions.shipments_sync(round)
        actions.orders_sync_deliveries(round)
        round.refresh_from_db()
        ids, uncovered = actions.round_checkpoint_ids(round)
        self.stdout.write(
            _("%(title)s：%(status)s")
            % {"title": round.title, "status": round.get_status_display()}
        )
        if uncovered:
            self.stdout.write(_("%(n)d 户所在楼栋没有服务卡口") % {"n": uncovered})
        checkpoints = checkpoint_access.visible_checkpoints(actor).filter(pk__in=ids).order_by("pk")
        with scopes_disabled():
            shipments = list(
                Shipment.objects.filter(round=round, checkpoint__in=list(checkpoints))
                .select_related("supplier", "checkpoint__compound", "goods")
                .order_by("checkpoint_id", "supplier__name")
            )
        self.table(
            (
                "ID",
                _("卡口"),
                _("保供单位"),
                _("件数"),
                _("状态"),
                _("发货时间"),
                _("剩余静置(分)"),
            ),
            [
                (
                    s.pk,
                    str(s.checkpoint),
                    s.supplier.name,
                    s.bags,
                    s.get_status_display(),
                    when(s.dispatched_at, "m-d H:i"),
                    s.goods.minutes_left() if s.goods else "",
                )
                for s in shipments
            ],
        )
        rows = []
        for checkpoint in checkpoints:
            orders = actions.checkpoint_orders(round, checkpoint)
            counts: dict[str, int] = {}
            for order in orders:
                counts[order.delivery_status] = counts.get(order.delivery_status, 0) + 1
            rows.append(
                (
                    str(checkpoint),
                    len(orders),
                    counts.get("delivered", 0),
                    counts.get("failed", 0),
                    counts.get("out_for_delivery", 0),
                    counts.get("released", 0),
                )
            )
        self.table((_("卡口"), _("户数"), _("已送达"), _("未送达"), _("配送中"), _("待分拣")), rows)

    # --- the chain --------------------------------------------------------------------

    def do_dispatch(self, actor: User, options: Options) -> None:
        round = access.get_round_for(actor, options["round"])
        supplier: Supplier | None
        if actor.role == Role.SUPPLIER:
            suppliers = access.suppliers_of(actor)
            wanted = options.get("supplier")
            supplier = suppliers.filter(pk=wanted).first() if wanted else suppliers.first()
            if supplier is None:
                raise CommandError(_("未找到保供单位，或不是您的单位"))
        else:
            if not options.get("supplier"):
                raise CommandError(_("请用 --supplier 指定保供单位 id"))
            supplier = access.get_supplier_for(actor, options["supplier"])
        require(
            access.can_dispatch_for(actor, supplier),
            _("只有该保供单位的账号或轮次管理人员可以发货"),
        )
        checkpoint = _checkpoint_in_round(round, str(options["checkpoint"]))
        shipment = actions.shipment_dispatch(
            actor=actor, round=round, supplier=supplier, checkpoint=checkpoint, bags=options["bags"]
        )
        self.done(
            _("已发货 #%(id)d：%(supplier)s → %(checkpoint)s，%(bags)d 件")
            % {
                "id": shipment.pk,
                "supplier": supplier.name,
                "checkpoint": checkpoint,
                "bags": shipment.bags,
            }
        )

    def do_receive(self, actor: User, options: Options) -> None:
        for shipment in self._shipments(actor, options, ShipmentStatus.DISPATCHED):
            actions.shipment_receive(actor=actor, shipment=shipment)
            self.done(
                _("已接收 #%(id)d %(supplier)s")
                % {"id": shipment.pk, "supplier": shipment.supplier.name}
            )

    def do_disinfect(self, actor: User, options: Options) -> None:
        for shipment in self._shipments(actor, options, ShipmentStatus.RECEIVED):
            if shipment.goods is None:
                continue
            with scopes_disabled():
                goods = checkpoint_actions.goods_disinfect(actor=actor, goods=shipment.goods)
            self.done(
                _("已消杀 #%(id)d，静置至 %(until)s")
                % {"id": shipment.pk, "until": when(goods.hold_until, "H:i")}
            )

    def do_release(self, actor: User, options: Options) -> None:
        for shipment in self._shipments(actor, options, ShipmentStatus.RECEIVED):
            actions.shipment_release(actor=actor, shipment=shipment)
            self.done(
                _("已放行 #%(id)d %(supplier)s")
                % {"id": shipment.pk, "supplier": shipment.supplier.name}
            )

    def do_bundles(self, actor: User, options: Options) -> None:
        require(access.can_manage_rounds(actor), _("只有保供轮次的管理人员可以分拣生成任务"))
        round = access.get_round_for(actor, options["round"])
        checkpoint = checkpoint_access.get_checkpoint_for(actor, options["checkpoint"])
        tasks = actions.bundles_create(
            actor=actor,
            round=round,
            checkpoint=checkpoint,
            max_households=options["max_households"],
        )
        self.table(
            (_("任务"), _("地点"), _("件数"), _("户数")),
            [(t.pk, t.place, t.size, t.stops.count()) for t in tasks],
        )
        self.done(_("已生成 %(n)d 个送货任务") % {"n": len(tasks)})

    def do_sync(self, actor: User, options: Options) -> None:
        require(access.can_manage_rounds(actor), _("只有保供轮次的管理人员可以同步"))
        round = access.get_round_for(actor, options["round"])
        released = actions.shipments_sync(round)
        changed = actions.orders_sync_deliveries(round, actor=actor)
        round.refresh_from_db()
        self.done(
            _("已同步：%(released)d 批货已放行，%(changed)d 个订单更新；轮次%(status)s")
            % {"released": released, "changed": changed, "status": round.get_status_display()}
        )

    def do_redeliver(self, actor: User, options: Options) -> None:
        require(
            access.can_manage_rounds(actor) or workforce_access.can_dispatch(actor),
            _("您的角色无权重新派送"),
        )
        order = access.get_order_for(actor, options["order"])
        task = actions.order_redeliver(actor=actor, order=order)
        self.done(_("已重新配送：任务 #%(id)d %(title)s") % {"id": task.pk, "title": task.title})
