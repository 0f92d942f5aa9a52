"""`linli checkpoints list|merge|roster|add-shift|couriers|log-courier`: checkpoints from the
command line. A checkpoint keeper sees and runs only the checkpoints they keep."""

from __future__ import annotations

from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.checkpoints import access, actions
from linli.checkpoints.choices import HealthCode
from linli.checkpoints.models import Checkpoint, Shift
from linli.commandline import (
    Options,
    SubcommandCommand,
    day_bounds,
    parse_date,
    parse_time,
    positive_int,
    require,
    rows_by_ids,
    user_by_username,
    when,
)
from linli.registry.models import Building, Compound, Gate
from linli.workforce.access import get_team_for
from linli.workforce.choices import Skill


def _keeper_of(actor: User, checkpoint: Checkpoint) -> None:
    require(access.can_keep(actor, checkpoint), _("您不是本卡口的值守人员，不能登记"))


class Command(SubcommandCommand):
    help = "卡口：列表、合并出入口为卡口、值守排班（缺口标出）、加班次、快递骑手登记。"

    def add_subcommands(self) -> None:
        self.subcommand("list", _("列出卡口"), write=False)

        merge = self.subcommand("merge", _("把小区的出入口合并为一个卡口"), write=True)
        merge.add_argument("--compound", required=True, help=_("小区 id"))
        merge.add_argument("--name", required=True, help=_("卡口名称"))
        merge.add_argument("--gate", nargs="+", required=True, help=_("出入口 id"))
        merge.add_argument("--building", nargs="+", default=[], help=_("服务楼栋 id"))
        merge.add_argument("--keeper", nargs="+", default=[], help=_("值守人员用户名"))
        merge.add_argument("--team", help=_("值守队伍 id"))
        merge.add_argument("--notes", default="")

        roster = self.subcommand("roster", _("某天的值守排班"), write=False)
        roster.add_argument("id", help=_("卡口 id"))
        roster.add_argument("--date", help=_("日期，例：2024-05-01（默认今天）"))

        shift = self.subcommand("add-shift", _("加一个班次"), write=True)
        shift.add_argument("id", help=_("卡口 id"))
        shift.add_argument("--starts-at", required=True, help=_("例：2024-05-01T08:00"))
        shift.add_argument("--ends-at", required=True)
        shift.add_argument("--needed", type=positive_int, required=True, help=_("所需人数"))
        shift.add_argument("--skill", nargs="+", default=[], choices=Skill.values)

        couriers = self.subcommand("couriers", _("某天的快递骑手登记"), write=False)
        couriers.add_argument("id", help=_("卡口 id"))
        couriers.add_argument("--date", help=_("日期（默认今天）"))

        log = self.subcommand("log-courier", _("登记一名快递员/骑手"), write=True)
        log.add_argument("id", help=_("卡口 id"))
        log.add_argument("--name", required=True)
        log.add_argument("--phone", default="")
        log.add_argument("--company", default="")
        log.add_argument("--health-code", required=True, choices=HealthCode.values)
        log.add_argument("--test-checked", action="store_true", help=_("已查验核酸阴性证明"))
        log.add_argument("--parcels", type=positive_int, default=0)
        log.add_argument("--refuse", metavar=_("原因"), help=_("拒绝放行及原因"))

    def do_list(self, actor: User, options: Options) -> None:
        checkpoints = access.visible_checkpoints(actor).prefetch_related(
            "gate_links__gate", "keepers", "buildings"
        )
        self.table(
            ("ID", _("卡口"), _("出入口"), _("服务楼栋"), _("值守人员"), _("队伍"), _("社区")),
            [
                (
                    c.pk,
                    str(c),
                    "、".join(link.gate.name for link in c.gate_links.all()),
                    len(c.buildings.all()),
                    "、".join(str(k) for k in c.keepers.all()),
                    c.team or "",
                    c.community.name,
                )
                for c in checkpoints
            ],
        )

    def do_merge(self, actor: User, options: Options) -> None:
        require(access.can_manage_checkpoints(actor), _("您的角色无权设置卡口"))
        (compound,) = rows_by_ids(Compound.objects.all(), [options["compound"]], _("小区"))
        gates = rows_by_ids(Gate.objects.all(), options["gate"], _("出入口"))
        buildings = rows_by_ids(
            Building.objects.select_related("compound"), options["building"], _("楼栋")
        )
        keepers = [user_by_username(name) for name in options["keeper"]]
        team = get_team_for(actor, options["team"]) if options["team"] else None
        checkpoint = actions.checkpoint_save(
            actor=actor,
            compound=compound,
            name=options["name"],
            gates=gates,
            buildings=buildings,
            keepers=keepers,
            team=team,
            notes=options["notes"],
        )
        self.done(
            _("已设卡口 %(id)d：%(name)s（%(gates)d 个出入口，%(buildings)d 栋楼）")
            % {
                "id": checkpoint.pk,
                "name": checkpoint,
                "gates": len(gates),
                "buildings": len(buildings),
            }
        )

    def do_roster(self, actor: User, options: Options) -> None:
        checkpoint = access.get_checkpoint_for(actor, options["id"])
        day = parse_date(options["date"], "--date")
        start, end = day_bounds(day)
        shifts = (
            Shift.objects.filter(checkpoint=checkpoint, starts_at__gte=start, starts_at__lt=end)
            .prefetch_related("tasks__volunteer")
            .order_by("starts_at")
        )
        self.stdout.write(
            _("%(checkpoint)s %(day)s 值守排班") % {"checkpoint": checkpoint, "day": day}
        )
        rows = []
        gaps = 0
        for shift in shifts:
            filled = shift.filled_tasks()
            gaps += shift.gaps
            rows.append(
                (
                    shift.pk,
                    f"{when(shift.starts_at, 'H:i')}–{when(shift.ends_at, 'H:i')}",
                    shift.needed,
                    "、".join(t.volunteer.name for t in filled if t.volunteer),
                    _("缺 %(n)d 人") % {"n": shift.gaps} if shift.gaps else _("已满"),
                )
            )
        self.table((_("班次"), _("时间"), _("需要"), _("已排"), _("缺口")), rows)
        if gaps:
            self.stdout.write(self.style.ERROR(_("当天共缺 %(n)d 人") % {"n": gaps}))

    def do_add_shift(self, actor: User, options: Options) -> None:
        require(access.can_manage_checkpoints(actor), _("您的角色无权排班"))
        checkpoint = access.get_checkpoint_for(actor, options["id"])
        shift = actions.shift_create(
            actor=actor,
            checkpoint=checkpoint,
            starts_at=parse_time(options["starts_at"], "--starts-at"),
            ends_at=parse_time(options["ends_at"], "--ends-at"),
            needed=options["needed"],
            required_skills=options["skill"],
        )
        self.done(
            _("已加班次 %(id)d：%(window)s，需要 %(n)d 人（已发布为值守任务）")
            % {
                "id": shift.pk,
                "window": f"{when(shift.starts_at)}–{when(shift.ends_at, 'H:i')}",
                "n": shift.needed,
            }
        )

    def do_couriers(self, actor: User, options: Options) -> None:
        checkpoint = access.get_checkpoint_for(actor, options["id"])
        start, end = day_bounds(parse_date(options["date"], "--date"))
        entries = access.visible_courier_entries(actor).filter(
            checkpoint=checkpoint, arrived_at__gte=start, arrived_at__lt=end
        )
        self.table(
            (
                _("时间"),
                _("姓名"),
                _("手机号"),
                _("公司/平台"),
                _("健康码"),
                _("核酸"),
                _("件数"),
                _("结果"),
            ),
            [
                (
                    when(e.arrived_at, "H:i"),
                    e.name,
                    e.masked_phone,
                    e.company,
                    e.get_health_code_display(),
                    _("已查验") if e.test_checked else _("未查验"),
                    e.parcels,
                    _("放行") if e.accepted else _("拒绝：%(r)s") % {"r": e.refusal_reason},
                )
                for e in entries
            ],
        )

    def do_log_courier(self, actor: User, options: Options) -> None:
        checkpoint = access.get_checkpoint_for(actor, options["id"])
        _keeper_of(actor, checkpoint)
        refused = options["refuse"] is not None
        entry = actions.courier_log(
            actor=actor,
            checkpoint=checkpoint,
            name=options["name"],
            phone=options["phone"],
            company=options["company"],
            health_code=options["health_code"],
            test_checked=options["test_checked"],
            parcels=options["parcels"],
            accepted=not refused,
            refusal_reason=options["refuse"] or "",
        )
        if entry.accepted:
            self.done(
                _("已登记并放行 %(name)s（%(n)d 件）") % {"name": entry.name, "n": entry.parcels}
            )
        else:
            self.done(_("已登记 %(name)s：拒绝放行") % {"name": entry.name})
