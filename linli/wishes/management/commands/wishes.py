"""`linli wishes …`: micro-wishes from the command line (list, show, collect, approve,
withdraw, batches, publish, close, claims, claim for someone, release, fulfil, thank,
figures, reveal a claimer's phone)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    community_for,
    format_fields,
    parse_date,
    positive_int,
    require,
    rows_by_ids,
    when,
)
from linli.lib.money import fen_to_yuan, yuan_to_fen
from linli.registry import access as registry_access
from linli.registry.scope import area_for
from linli.wishes import access, actions
from linli.wishes.choices import ClaimerKind, WishStatus
from linli.wishes.models import Wish
from linli.wishes.views.figures import figures_for


def _step(actor: User, wish: Wish, step: str) -> None:
    require(access.may_step(actor, wish, step), _("您的角色无权进行此操作"))


class Command(SubcommandCommand):
    help = "微心愿：列表、收集、审核、批次、发布、认领、退回、送达、致谢、统计。"

    def add_subcommands(self) -> None:
        listing = self.subcommand("list", _("列出心愿"), write=False)
        listing.add_argument("--status", choices=WishStatus.values)
        listing.add_argument("--batch", help=_("批次 id"))
        listing.add_argument("--limit", type=positive_int, default=100)

        show = self.subcommand("show", _("查看心愿及其记录"), write=False)
        show.add_argument("id", help=_("心愿 id"))

        collect = self.subcommand("collect", _("为一户收集心愿"), write=True)
        collect.add_argument("--household", required=True, help=_("户 id"))
        collect.add_argument("--recipient", required=True, help=_("公开描述，如：一位低保户老人"))
        collect.add_argument("--item", required=True, help=_("心愿物品"))
        collect.add_argument("--quantity", type=positive_int, default=1)
        collect.add_argument("--value", default="0", help=_("估计价值（元），例：80"))
        collect.add_argument("--note", default="")

        approve = self.subcommand("approve", _("审核通过（可多个）"), write=True)
        approve.add_argument("ids", nargs="+", help=_("心愿 id"))

        withdraw = self.subcommand("withdraw", _("撤回心愿（须填原因）"), write=True)
        withdraw.add_argument("id", help=_("心愿 id"))
        withdraw.add_argument("--reason", required=True)

        self.subcommand("batches", _("列出认领批次"), write=False)

        batch = self.subcommand("batch-create", _("新建认领批次"), write=True)
        batch.add_argument("--community", help=_("社区编码（管辖多个社区时必填）"))
        batch.add_argument("--title", required=True)
        batch.add_argument("--deliver-by", required=True, help=_("送达截止日期，例：2024-12-31"))
        batch.add_argument("--limit", type=positive_int, default=2, help=_("每人最多认领"))
        batch.add_argument("--note", default="", help=_("认领说明（公开）"))

        limit = self.subcommand("batch-limit", _("修改每人最多认领数"), write=True)
        limit.add_argument("batch", help=_("批次 id"))
        limit.add_argument("limit", type=positive_int)

        add = self.subcommand("batch-add", _("把已审核的心愿加入批次"), write=True)
        add.add_argument("batch", help=_("批次 id"))
        add.add_argument("ids", nargs="+", help=_("心愿 id"))

        publish = self.subcommand("publish", _("发布批次（打开公开认领页）"), write=True)
        publish.add_argument("batch", help=_("批次 id"))
        close = self.subcommand("close", _("结束认领（未认领的心愿回到已审核）"), write=True)
        close.add_argument("batch", help=_("批次 id"))

        claims = self.subcommand("claims", _("批次的认领情况（手机号隐藏）"), write=False)
        claims.add_argument("batch", help=_("批次 id"))

        claim = self.subcommand("claim", _("代为登记认领（电话报名的党员）"), write=True)
        claim.add_argument("batch", help=_("批次 id"))
        claim.add_argument("wish", help=_("心愿 id"))
        claim.add_argument("--name", required=True)
        claim.add_argument("--phone", required=True)
        claim.add_argument("--work-unit", required=True)
        claim.add_argument("--kind", choices=ClaimerKind.values, default=ClaimerKind.PARTY_MEMBER)

        release = self.subcommand("release", _("退回认领（须填原因）"), write=True)
        release.add_argument("id", help=_("心愿 id"))
        release.add_argument("--reason", required=True)

        fulfil = self.subcommand(
            "fulfil", _("送达：--centre 礼物已送到服务中心；--door 发布上门配送任务"), write=True
        )
        fulfil.add_argument("ids", nargs="+", help=_("心愿 id（--door 时须为同一户）"))
        how = fulfil.add_mutually_exclusive_group(required=True)
        how.add_argument("--centre", action="store_true")
        how.add_argument("--door", action="store_true")
        fulfil.add_argument("--note", default="")

        thank = self.subcommand("thank", _("记录受助家庭的感谢"), write=True)
        thank.add_argument("id", help=_("心愿 id"))
        thank.add_argument("--text", required=True)

        figures = self.subcommand("figures", _("统计：按状态、认领用时、按工作单位"), write=False)
        figures.add_argument("--batch", help=_("批次 id"))

        reveal = self.subcommand("reveal", _("查看认领人完整手机号（记入审计）"), write=True)
        reveal.add_argument("claimer", help=_("认领人 id"))
        reveal.add_argument("--reason", required=True)

    def _settle(self, actor: User) -> None:
        actions.wishes_settle(community_ids=area_for(actor).communities)

    def _reader(self, actor: User) -> None:
        require(access.can_see_wishes(actor), _("您的角色无权查看微心愿"))
        self._settle(actor)

    def _manager(self, actor: User) -> None:
        require(access.can_manage_wishes(actor), _("您的角色无权管理微心愿"))

    # --- reading ----------------------------------------------------------------------

    def do_list(self, actor: User, options: Options) -> None:
        self._reader(actor)
        wishes = access.visible_wishes(actor).order_by("-created_at", "-pk")
        if options["status"]:
            wishes = wishes.filter(status=options["status"])
        if options["batch"]:
            wishes = wishes.filter(batch=access.get_batch_for(actor, options["batch"]))
        total = wishes.count()
        rows = [
            (
                w.pk,
                f"{w.item}×{w.quantity}",
                w.recipient,
                w.household.address,
                fen_to_yuan(w.value_fen),
                f"{w.batch_id}#{w.number}" if w.batch_id else "",
                w.get_status_display(),
                f"{w.claimer.masked_name}（{w.claimer.work_unit}）" if w.claimer else "",
            )
            for w in wishes[: options["limit"]]
        ]
        headers = ("ID", _("心愿"), _("对象"), _("户"), _("价值"), _("批次#"), _("状态"), _("认领"))
        self.table(headers, rows)
        self.stdout.write(_("共 %(n)d 个心愿，显示 %(s)d 个") % {"n": total, "s": len(rows)})

    def do_show(self, actor: User, options: Options) -> None:
        self._reader(actor)
        wish = access.get_wish_for(actor, options["id"])
        batch = wish.batch
        self.stdout.write(
            format_fields(
                [
                    ("ID", wish.pk),
                    (_("心愿"), f"{wish.item}×{wish.quantity}"),
                    (_("对象（公开）"), wish.recipient),
                    (_("户"), wish.household.address),
                    (_("估计价值"), fen_to_yuan(wish.value_fen)),
                    (_("状态"), wish.get_status_display()),
                    (_("批次"), f"{batch.title} #{wish.number}" if batch else ""),
                    (
                        _("认领人"),
                        f"{wish.claimer.masked_name}（{wish.claimer.work_unit}）"
                        f"{wish.claimer.masked_phone}"
                        if wish.claimer
                        else "",
                    ),
                    (_("送达截止"), batch.deliver_by.isoformat() if batch and wish.claimer else ""),
                    (_("送达方式"), wish.get_delivery_mode_display()),
                    (_("配送任务"), wish.task_stop.task_id if wish.task_stop else ""),
                    (_("送达"), when(wish.fulfilled_at) if wish.fulfilled_at else ""),
                    (_("感谢"), wish.thanks),
                    (_("撤回原因"), wish.withdrawn_reason),
                ]
            )
        )
        self.stdout.write("")
        self.table(
            (_("时间"), _("操作人"), _("状态"), _("说明")),
            [
                (
                    when(e.at),
                    e.actor or _("认领人"),
                    f"{e.get_from_status_display()}→{e.get_to_status_display()}",
                    e.note,
                )
                for e in wish.events.select_related("actor")
            ],
        )

    def do_batches(self, actor: User, options: Options) -> None:
        self._reader(actor)
        rows = [
            (
                b.pk,
                b.title,
                b.community.name,
                b.get_status_display(),
                when(b.published_at),
                b.deliver_by.isoformat(),
                b.per_claimer_limit,
                f"/w/{b.code}/" if b.published_at else "",
            )
            for b in access.visible_batches(actor).order_by("-created_at", "-pk")
        ]
        headers = (
            "ID",
            _("标题"),
            _("社区"),
            _("状态"),
            _("发布"),
            _("送达截止"),
            _("每人最多"),
            _("认领页"),
        )
        self.table(headers, rows)

    def do_claims(self, actor: User, options: Options) -> None:
        self._manager(actor)
        self._settle(actor)
        batch = access.get_batch_for(actor, options["batch"])
        wishes = access.visible_wishes(actor).filter(batch=batch).order_by("number")
        self.table(
            (_("编号"), _("心愿"), _("状态"), _("认领人"), _("认领人ID"), _("单位"), _("手机号")),
            [
                (
                    w.number,
                    f"{w.item}×{w.quantity}",
                    w.get_status_display(),
                    w.claimer.masked_name if w.claimer else "",
                    w.claimer_id or "",
                    w.claimer.work_unit if w.claimer else "",
                    w.claimer.masked_phone if w.claimer else "",
                )
                for w in wishes
            ],
        )
        self.stdout.write(
            _("送达截止：%(date)s；每人最多认领 %(n)d 个")
            % {"date": batch.deliver_by.isoformat(), "n": batch.per_claimer_limit}
        )

    def do_figures(self, actor: User, options: Options) -> None:
        self._reader(actor)
        batch = access.get_batch_for(actor, options["batch"]) if options["batch"] else None
        figures = figures_for(actor, batch)
        self.table(
            (_("状态"), _("心愿数"), _("估计价值")),
            [(r.label, r.wishes, fen_to_yuan(r.value_fen)) for r in figures.statuses],
        )
        self.stdout.write("")
        self.table(
            (_("批次"), _("发布"), _("心愿数"), _("已认领"), _("全部认领"), _("用时(分钟)")),
            [
                (
                    r.title,
                    when(r.published_at),
                    r.wishes,
                    r.claimed,
                    when(r.all_claimed_at),
                    r.minutes_to_all_claimed,
                )
                for r in figures.batches
            ],
        )
        self.stdout.write("")
        self.table(
            (_("工作单位"), _("认领人数"), _("认领心愿"), _("已送达")),
            [(r.work_unit, r.claimers, r.wishes, r.fulfilled) for r in figures.units],
        )

    # --- writing ----------------------------------------------------------------------

    def do_collect(self, actor: User, options: Options) -> None:
        require(access.can_collect_wishes(actor), _("您的角色无权收集微心愿"))
        household = registry_access.get_household_for(actor, options["household"])
        value = yuan_to_fen(options["value"])
        if value is None:
            raise CommandError(_("--value 应为金额（元），最多两位小数"))
        wish = actions.wish_collect(
            actor=actor,
            data=actions.WishInput(
                household=household,
                recipient=options["recipient"],
                item=options["item"],
                quantity=options["quantity"],
                value_fen=value,
                note=options["note"],
            ),
        )
        self.done(_("已收集心愿 %(id)d：%(wish)s") % {"id": wish.pk, "wish": wish})

    def do_approve(self, actor: User, options: Options) -> None:
        self._manager(actor)
        for wish in rows_by_ids(access.visible_wishes(actor), options["ids"], _("心愿")):
            actions.wish_approve(actor=actor, wish=wish)
        self.done(_("已审核 %(n)d 个心愿") % {"n": len(options["ids"])})

    def do_withdraw(self, actor: User, options: Options) -> None:
        wish = access.get_wish_for(actor, options["id"])
        _step(actor, wish, "withdraw")
        actions.wish_withdraw(actor=actor, wish=wish, reason=options["reason"])
        self.done(_("心愿已撤回"))

    def do_batch_create(self, actor: User, options: Options) -> None:
        self._manager(actor)
        batch = actions.batch_create(
            actor=actor,
            community=community_for(actor, options["community"]),
            title=options["title"],
            deliver_by=parse_date(options["deliver_by"], "--deliver-by"),
            per_claimer_limit=options["limit"],
            note=options["note"],
        )
        self.done(_("已新建批次 %(id)d：%(title)s") % {"id": batch.pk, "title": batch.title})

    def do_batch_limit(self, actor: User, options: Options) -> None:
        self._manager(actor)
        batch = access.get_batch_for(actor, options["batch"])
        actions.batch_update(
            actor=actor,
            batch=batch,
            title=batch.title,
            deliver_by=batch.deliver_by,
            per_claimer_limit=options["limit"],
            note=batch.note,
        )
        self.done(_("每人最多认领已改为 %(n)d 个") % {"n": options["limit"]})

    def do_batch_add(self, actor: User, options: Options) -> None:
        self._manager(actor)
        batch = access.get_batch_for(actor, options["batch"])
        wishes = rows_by_ids(access.visible_wishes(actor), options["ids"], _("心愿"))
        actions.batch_add(actor=actor, batch=batch, wishes=wishes)
        self.done(_("已加入 %(n)d 个心愿") % {"n": len(wishes)})

    def do_publish(self, actor: User, options: Options) -> None:
        self._manager(actor)
        batch = actions.batch_publish(
            actor=actor, batch=access.get_batch_for(actor, options["batch"])
        )
        self.done(_("批次已发布，认领页：/w/%(code)s/") % {"code": batch.code})

    def do_close(self, actor: User, options: Options) -> None:
        self._manager(actor)
        actions.batch_close(actor=actor, batch=access.get_batch_for(actor, options["batch"]))
        self.done(_("批次已结束认领"))

    def do_claim(self, actor: User, options: Options) -> None:
        self._manager(actor)
        batch = access.get_batch_for(actor, options["batch"])
        if not str(options["wish"]).isdigit():
            raise CommandError(_("心愿 id 应为数字"))
        claimed = actions.wish_claim(
            batch=batch,
            wish_id=int(options["wish"]),
            data=actions.ClaimInput(
                name=options["name"],
                phone=options["phone"],
                work_unit=options["work_unit"],
                kind=options["kind"],
            ),
            actor=actor,
        )
        self.done(
            _("已登记认领：%(wish)s，请于 %(date)s 前送达")
            % {"wish": claimed.claim.wish.label, "date": batch.deliver_by.isoformat()}
        )

    def do_release(self, actor: User, options: Options) -> None:
        self._manager(actor)
        wish = access.get_wish_for(actor, options["id"])
        actions.claim_release(actor=actor, wish=wish, reason=options["reason"])
        self.done(_("认领已退回，心愿重新可认领"))

    def do_fulfil(self, actor: User, options: Options) -> None:
        self._manager(actor)
        wishes = rows_by_ids(access.visible_wishes(actor), options["ids"], _("心愿"))
        if options["door"]:
            task = actions.wish_send_to_door(
                actor=actor, wishes=wishes, description=options["note"]
            )
            self.done(_("已发布上门配送任务 %(id)d") % {"id": task.pk})
            return
        for wish in wishes:
            actions.wish_receive(actor=actor, wish=wish, note=options["note"])
        self.done(_("已登记 %(n)d 个心愿的礼物送到服务中心") % {"n": len(wishes)})

    def do_thank(self, actor: User, options: Options) -> None:
        wish = access.get_wish_for(actor, options["id"])
        _step(actor, wish, "thank")
        actions.wish_thank(actor=actor, wish=wish, thanks=options["text"])
        self.done(_("已记录感谢"))

    def do_reveal(self, actor: User, options: Options) -> None:
        self._manager(actor)
        claimer = access.get_claimer_for(actor, options["claimer"])
        phone = actions.claimer_reveal(actor=actor, claimer=claimer, reason=options["reason"])
        self.stdout.write(phone)
