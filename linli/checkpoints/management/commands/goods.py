"""`linli goods held|receive|disinfect|release`: goods at the checkpoint and their
disinfection hold. Nothing is released before its hold ends."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.checkpoints import access, actions
from linli.checkpoints.models import Checkpoint, GoodsReceipt
from linli.commandline import (
    Options,
    SubcommandCommand,
    positive_int,
    require,
    rows_by_ids,
    when,
)
from linli.registry.models import Building


def _keeper_of(actor: User, checkpoint: Checkpoint) -> None:
    require(access.can_keep(actor, checkpoint), _("您不是本卡口的值守人员，不能登记"))


class Command(SubcommandCommand):
    help = "卡口物资：静置中的物资（剩余分钟）、接收、消杀、放行（静置未满不能放行）。"

    def add_subcommands(self) -> None:
        self.subcommand("held", _("未放行的物资及静置剩余分钟"), write=False)

        receive = self.subcommand("receive", _("卡口接收一批物资"), write=True)
        receive.add_argument("checkpoint", help=_("卡口 id"))
        receive.add_argument("--sender", required=True, help=_("发货方"))
        receive.add_argument("--count", type=positive_int, required=True, help=_("件数"))
        receive.add_argument("--description", default="", help=_("物资说明"))
        receive.add_argument("--building", nargs="+", default=[], help=_("送往楼栋 id"))

        for name, label in (
            ("disinfect", _("已消杀：开始静置")),
            ("release", _("静置期满，放行")),
        ):
            parser = self.subcommand(name, label, write=True)
            parser.add_argument("id", help=_("物资 id"))

    def do_held(self, actor: User, options: Options) -> None:
        now = timezone.now()
        # visible_goods is a GoodsQuerySet at run time (the manager's), typed as a plain one.
        visible = access.visible_goods(actor)
        goods = visible.held().order_by("hold_until", "received_at")
        rows = []
        for g in goods:
            left = g.minutes_left(now)
            rows.append(
                (
                    g.pk,
                    str(g.checkpoint),
                    g.sender,
                    g.count,
                    g.get_status_display(),
                    when(g.received_at, "m-d H:i"),
                    when(g.hold_until, "m-d H:i"),
                    _("未消杀")
                    if left is None
                    else (_("可放行") if left == 0 else _("%(n)d 分钟") % {"n": left}),
                )
            )
        self.table(
            (
                "ID",
                _("卡口"),
                _("发货方"),
                _("件数"),
                _("状态"),
                _("接收"),
                _("静置至"),
                _("剩余"),
            ),
            rows,
        )

    def do_receive(self, actor: User, options: Options) -> None:
        checkpoint = access.get_checkpoint_for(actor, options["checkpoint"])
        _keeper_of(actor, checkpoint)
        buildings = rows_by_ids(
            Building.objects.select_related("compound"), options["building"], _("楼栋")
        )
        goods = actions.goods_receive(
            actor=actor,
            checkpoint=checkpoint,
            sender=options["sender"],
            count=options["count"],
            description=options["description"],
            buildings=buildings,
        )
        self.done(_("已接收物资 %(id)d：%(goods)s") % {"id": goods.pk, "goods": goods})

    def _goods(self, actor: User, options: Options) -> GoodsReceipt:
        goods = access.get_goods_for(actor, options["id"])
        _keeper_of(actor, goods.checkpoint)
        return goods

    def do_disinfect(self, actor: User, options: Options) -> None:
        goods = actions.goods_disinfect(actor=actor, goods=self._goods(actor, options))
        self.done(
            _("物资 %(id)d 已消杀，静置至 %(until)s")
            % {"id": goods.pk, "until": when(goods.hold_until, "H:i")}
        )

    def do_release(self, actor: User, options: Options) -> None:
        goods = actions.goods_release(actor=actor, goods=self._goods(actor, options))
        self.done(_("物资 %(id)d 已放行") % {"id": goods.pk})
