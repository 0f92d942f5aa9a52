"""`linli rounds …`: supply rounds from the command line (list, show, create, add an offer,
open, close — a fair round is shared out —, copy, and care packages)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    format_fields,
    parse_date,
    parse_time,
    positive_int,
    require,
    when,
)
from linli.lib.money import fen_to_yuan, grams_to_kg
from linli.registry.choices import CareTag
from linli.supply import access, actions
from linli.supply.choices import Intake, RoundScope, RoundStatus
from linli.supply.models import SupplyRound


def _id(text: str | None) -> int | None:
    if text is None:
        return None
    return _required_id(text)


def _required_id(text: str) -> int:
    if not str(text).isdigit():
        raise CommandError(_("应为 id（整数）：%(value)s") % {"value": text})
    return int(text)


class Command(SubcommandCommand):
    help = "保供轮次：列表、详情、新建、添加供应、开始接单、截单（公平分配即分配）、复制、爱心包。"

    def add_subcommands(self) -> None:
        listing = self.subcommand("list", _("列出保供轮次"), write=False)
        listing.add_argument("--status", choices=RoundStatus.values)
        listing.add_argument("--limit", type=positive_int, default=100)

        show = self.subcommand("show", _("查看轮次及其供应"), write=False)
        show.add_argument("id", help=_("轮次 id"))

        create = self.subcommand("create", _("新建轮次（草稿）"), write=True)
        create.add_argument("--title", required=True)
        create.add_argument("--scope", required=True, choices=RoundScope.values)
        create.add_argument("--community", help=_("社区 id（范围为社区时）"))
        create.add_argument("--compound", help=_("小区 id（范围为小区时）"))
        create.add_argument("--building", help=_("楼栋 id（楼栋团购时）"))
        create.add_argument("--organiser", default="", help=_("团长账号（用户名）"))
        create.add_argument("--opens-at", required=True, help=_("开始接单，例：2024-05-01T06:00"))
        create.add_argument("--closes-at", required=True, help=_("截单时间"))
        create.add_argument("--delivery-date", required=True, help=_("配送日期，例：2024-05-02"))
        create.add_argument("--intake", choices=Intake.values, default=Intake.FIRST_COME)

        offer = self.subcommand("add-offer", _("为轮次添加供应套餐"), write=True)
        offer.add_argument("id", help=_("轮次 id"))
        offer.add_argument("--package", required=True, help=_("套餐包 id"))
        offer.add_argument("--stock", required=True, type=int, help=_("库存（份）"))
        offer.add_argument("--limit", type=int, default=1, help=_("每户限购（份）"))

        for name, label in (("open", _("开始接单")), ("close", _("截单（公平分配的轮次即分配）"))):
            parser = self.subcommand(name, label, write=True)
            parser.add_argument("id", help=_("轮次 id"))

        copy = self.subcommand("copy", _("复制为下一轮（草稿）"), write=True)
        copy.add_argument("id", help=_("轮次 id"))
        copy.add_argument("--opens-at", help=_("新一轮开始接单；默认本轮开始后 2 天"))

        care = self.subcommand("care", _("爱心包：为有所选标签的住户各免费发放 1 份"), write=True)
        care.add_argument("id", help=_("轮次 id"))
        care.add_argument("--offer", required=True, help=_("供应 id（本轮中的）"))
        care.add_argument("--tag", nargs="+", required=True, choices=CareTag.values)
        care.add_argument("--funder", required=True, help=_("出资方"))

    # --- reading ----------------------------------------------------------------------

    def do_list(self, actor: User, options: Options) -> None:
        require(
            access.can_manage_rounds(actor)
            or access.can_order_for_others(actor)
            or actor.role == Role.SUPPLIER,
            _("您的角色无权查看保供轮次"),
        )
        rounds = access.visible_rounds(actor).order_by("-opens_at", "-pk")
        if options["status"]:
            rounds = rounds.filter(status=options["status"])
        rows = []
        for r in rounds[: options["limit"]]:
            offers = list(access.visible_offers(actor).filter(round=r))
            rows.append(
                (
                    r.pk,
                    r.title,
                    r.get_status_display(),
                    r.get_scope_display(),
                    f"{when(r.opens_at, 'm-d H:i')}–{when(r.closes_at, 'm-d H:i')}",
                    r.delivery_date.isoformat(),
                    access.round_order_count(actor, r),
                    " ".join(f"{o.package.name}{o.remaining}/{o.stock}" for o in offers),
                )
            )
        self.table(
            (
                "ID",
                _("轮次"),
                _("状态"),
                _("范围"),
                _("接单时间"),
                _("配送日期"),
                _("订单"),
                _("剩余库存"),
            ),
            rows,
        )

    def do_show(self, actor: User, options: Options) -> None:
        round = access.get_round_for(actor, options["id"])
        self.stdout.write(
            format_fields(
                [
                    ("ID", round.pk),
                    (_("名称"), round.title),
                    (_("范围"), round.get_scope_display()),
                    (_("接单时间"), f"{when(round.opens_at)} – {when(round.closes_at)}"),
                    (_("配送日期"), round.delivery_date.isoformat()),
                    (_("接单方式"), round.get_intake_display()),
                    (_("状态"), round.get_status_display()),
                    (
                        _("状态变更"),
                        f"{when(round.status_changed_at)} {round.status_changed_by or ''}".strip()
                        if round.status_changed_at
                        else "",
                    ),
                    (_("订单数"), access.round_order_count(actor, round)),
                ]
            )
        )
        self.stdout.write("")
        offers = list(access.visible_offers(actor).filter(round=round))
        counts = access.offer_counts(offers)
        self.table(
            (
                "ID",
                _("套餐包"),
                _("保供单位"),
                _("库存"),
                _("剩余"),
                _("限购"),
                _("价格"),
                _("净重"),
                _("已订"),
                _("已分配"),
            ),
            [
                (
                    o.pk,
                    o.package.name,
                    o.package.supplier.name,
                    o.stock,
                    o.remaining,
                    o.per_household_limit,
                    fen_to_yuan(o.price_fen),
                    grams_to_kg(o.net_weight_g),
                    counts.get(o.pk, access.OfferCount()).units,
                    counts.get(o.pk, access.OfferCount()).allocated,
                )
                for o in offers
            ],
        )

    # --- writing ----------------------------------------------------------------------

    def _managed(self, actor: User, pk: str) -> SupplyRound:
        require(access.can_manage_rounds(actor), _("您的角色无权管理保供轮次"))
        round = access.get_round_for(actor, pk)
        access.require_round_manager(actor, round)
        return round

    def do_create(self, actor: User, options: Options) -> None:
        require(access.can_manage_rounds(actor), _("您的角色无权管理保供轮次"))
        place = access.round_place_for(
            actor,
            scope=options["scope"],
            community_id=_id(options["community"]),
            compound_id=_id(options["compound"]),
            building_id=_id(options["building"]),
        )
        round = actions.round_create(
            actor=actor,
            street_id=place.street_id,
            data=actions.RoundInput(
                title=options["title"],
                scope=options["scope"],
                opens_at=parse_time(options["opens_at"], "--opens-at"),
                closes_at=parse_time(options["closes_at"], "--closes-at"),
                delivery_date=parse_date(options["delivery_date"], "--delivery-date"),
                intake=options["intake"],
                community_id=place.community_id,
                compound_id=place.compound_id,
                building_id=place.building_id,
                organiser=access.organiser_for(options["organiser"], place),
            ),
        )
        self.done(
            _("已新建轮次 %(id)d：%(title)s（草稿）") % {"id": round.pk, "title": round.title}
        )

    def do_add_offer(self, actor: User, options: Options) -> None:
        round = self._managed(actor, options["id"])
        package_id = _required_id(options["package"])
        package = access.packages_for_round(round).filter(pk=package_id).first()
        if package is None:
            raise CommandError(_("套餐包 %(id)s 不存在或不能用于本轮") % {"id": options["package"]})
        offer = actions.offer_add(
            actor=actor,
            round=round,
            package=package,
            stock=options["stock"],
            per_household_limit=options["limit"],
        )
        self.done(
            _("已添加供应 %(id)d：%(name)s × %(stock)d")
            % {"id": offer.pk, "name": package.name, "stock": offer.stock}
        )

    def do_open(self, actor: User, options: Options) -> None:
        round = actions.round_open(actor=actor, round=self._managed(actor, options["id"]))
        self.done(_("轮次 %(id)d 已开始接单") % {"id": round.pk})

    def do_close(self, actor: User, options: Options) -> None:
        round = actions.round_close(actor=actor, round=self._managed(actor, options["id"]))
        self.done(
            _("轮次 %(id)d 已截单，当前“%(status)s”")
            % {"id": round.pk, "status": round.get_status_display()}
        )

    def do_copy(self, actor: User, options: Options) -> None:
        round = self._managed(actor, options["id"])
        opens_at = (
            parse_time(options["opens_at"], "--opens-at")
            if options["opens_at"]
            else round.opens_at + dt.timedelta(days=2)
        )
        copy = actions.round_copy(actor=actor, round=round, opens_at=opens_at)
        self.done(
            _("已复制为轮次 %(id)d（草稿，%(opens)s 开始接单，%(n)d 个供应）")
            % {"id": copy.pk, "opens": when(copy.opens_at), "n": copy.offers.count()}
        )

    def do_care(self, actor: User, options: Options) -> None:
        round = self._managed(actor, options["id"])
        offer = (
            round.offers.select_related("package").filter(pk=_required_id(options["offer"])).first()
        )
        if offer is None:
            raise CommandError(_("供应 %(id)s 不在本轮中") % {"id": options["offer"]})
        plan = actions.care_plan_apply(
            actor=actor, round=round, offer=offer, tags=options["tag"], funder=options["funder"]
        )
        self.done(
            _("爱心包已发放：%(n)d 户各 1 份%(name)s，出资方 %(funder)s")
            % {"n": plan.households, "name": offer.package.name, "funder": plan.funder}
        )
