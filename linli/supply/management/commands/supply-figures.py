"""`linli supply-figures show|settlement`: the supply figures and a round's settlement."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.commandline import Options, SubcommandCommand, parse_date, positive_int, require
from linli.lib.money import fen_to_yuan, grams_to_kg
from linli.supply import access, figures
from linli.supply.models import Order, Supplier
from linli.supply.views.figures import figures_orders


class Command(SubcommandCommand):
    help = "保供统计：订单、送达、重量与金额（分品类）、爱心包、放行到送达用时；结算单。"

    def add_subcommands(self) -> None:
        show = self.subcommand("show", _("统计（本人管辖范围）"), write=False)
        show.add_argument("--round", type=positive_int, help=_("只统计这一轮"))
        show.add_argument("--since", help=_("起始日期 YYYY-MM-DD"))
        sheet = self.subcommand("settlement", _("某一轮的结算单（按保供单位）"), write=False)
        sheet.add_argument("round", type=positive_int)

    def do_show(self, actor: User, options: Options) -> None:
        require(
            actor.is_superuser or access.can_manage_rounds(actor), _("您的角色无权查看保供统计")
        )
        since = parse_date(options["since"], "--since") if options["since"] else None
        result = figures.summary(figures_orders(actor, options["round"], since))
        self.table(
            (_("订单"), _("已送达"), _("未送达"), _("送达户数"), _("重量"), _("金额"), _("爱心包")),
            [
                (
                    result.orders,
                    result.delivered,
                    result.failed,
                    result.households_reached,
                    f"{result.kg} kg",
                    fen_to_yuan(result.fen),
                    result.care_packages,
                )
            ],
        )
        self.table(
            (_("品类"), _("份数"), _("重量"), _("金额")),
            [
                (r.label, r.units, grams_to_kg(r.grams), fen_to_yuan(r.fen))
                for r in result.categories
            ],
        )
        self.table(
            (_("日期"), _("下单"), _("送达"), _("未送达")),
            [(r.day.isoformat(), r.placed, r.delivered, r.failed) for r in result.days],
        )
        if result.delivery_minutes_median is not None:
            self.done(
                _("放行到送达：中位数 %(m)s 分钟，90%% 在 %(p)s 分钟以内")
                % {"m": result.delivery_minutes_median, "p": result.delivery_minutes_p90}
            )

    def do_settlement(self, actor: User, options: Options) -> None:
        managing = actor.is_superuser or access.can_manage_rounds(actor)
        require(managing or access.suppliers_of(actor).exists(), _("您的角色无权查看结算单"))
        round = access.get_round_for(actor, options["round"])
        suppliers = Supplier.objects.filter(packages__offers__round=round).distinct()
        if not managing:
            suppliers = suppliers.filter(pk__in=access.suppliers_of(actor))
        with scopes_disabled():
            orders = Order.objects.filter(round=round)
            rows = [
                (supplier.name, r.label, r.orders, r.units, fen_to_yuan(r.fen))
                for supplier in suppliers
                for r in figures.settlement(orders, supplier.pk)
            ]
        self.table((_("保供单位"), _("付款方式"), _("订单数"), _("份数"), _("金额")), rows)
