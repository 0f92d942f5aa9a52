"""`linli care …`: care plans, the day's worklist (and its generation), outcomes, extra
check-ins, the escalation run and coverage from the command line.

`linli care worklist --date D` makes the day's check-ins (idempotent) and prints them;
`linli care escalate` runs the escalation chain for every check-in past its community's hour.
Both take --enqueue to hand the work to `linli db_worker` instead (for a cron line).
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError, CommandParser
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.care import access, actions, tasks
from linli.care.choices import Channel, CheckInStatus, FollowUp, Outcome, PlanKind, PlanStatus
from linli.care.figures import coverage
from linli.care.models import CareSettings
from linli.commandline import (
    Options,
    SubcommandCommand,
    community_for,
    format_fields,
    parse_date,
    parse_time,
    positive_int,
    require,
    rows_by_ids,
    when,
)
from linli.registry import access as registry_access
from linli.registry.choices import CareTag
from linli.registry.models import CareTagAssignment, Resident
from linli.registry.scope import area_for


def _plan_options(parser: CommandParser, *, required: bool) -> None:
    parser.add_argument("--kind", choices=PlanKind.values, required=required)
    parser.add_argument("--call-every", type=positive_int, default=1, help=_("每几天电话一次"))
    parser.add_argument("--visit-every", type=positive_int, default=7, help=_("每几天上门一次"))
    parser.add_argument("--channel", choices=Channel.values, default=Channel.PHONE)
    parser.add_argument("--owner", help=_("负责人用户名（默认为住户所在网格的网格员）"))
    parser.add_argument("--time", help=_("方便联系的时间，例：09:30"))
    parser.add_argument("--starts-on", help=_("开始日期，例：2024-05-01"))
    parser.add_argument("--notes", default="")


def _plan_input(actor: User, options: Options) -> actions.PlanInput:
    owner = None
    if options["owner"]:
        owner = (
            access.possible_owners(area_for(actor).communities)
            .filter(username=options["owner"])
            .first()
        )
        if owner is None:
            raise CommandError(_("负责人须是本社区的网格员或社区工作人员"))
    preferred = None
    if options["time"]:
        try:
            preferred = dt.time.fromisoformat(options["time"])
        except ValueError:
            raise CommandError(_("--time 不是有效时间（例：09:30）")) from None
    return actions.PlanInput(
        kind=options["kind"] or PlanKind.CALL,
        call_every_days=options["call_every"],
        visit_every_days=options["visit_every"],
        channel=options["channel"],
        owner=owner,
        preferred_time=preferred,
        starts_on=parse_date(options["starts_on"], "--starts-on") if options["starts_on"] else None,
        notes=options["notes"],
    )


class Command(SubcommandCommand):
    help = "关爱回访：计划、当天名单（生成）、记录结果、加访、升级、覆盖率、社区设置。"

    def add_subcommands(self) -> None:
        plans = self.subcommand("plans", _("列出关爱计划"), write=False)
        plans.add_argument("--q", help=_("姓名、拼音、手机尾号或地址"))
        plans.add_argument("--status", choices=PlanStatus.values)
        plans.add_argument("--tag", choices=CareTag.values)
        plans.add_argument("--limit", type=positive_int, default=100)

        plan_set = self.subcommand("plan-set", _("为居民建立或修改关爱计划"), write=True)
        plan_set.add_argument("resident", help=_("居民 id"))
        _plan_options(plan_set, required=False)

        bulk = self.subcommand("plan-bulk", _("为带所选标签的台账居民批量建立计划"), write=True)
        bulk.add_argument("--community", help=_("社区编码（管辖多个社区时必填）"))
        bulk.add_argument("--tag", nargs="+", required=True, choices=CareTag.values)
        _plan_options(bulk, required=False)

        pause = self.subcommand("plan-pause", _("暂停计划（须填原因）"), write=True)
        pause.add_argument("plan", help=_("计划 id"))
        pause.add_argument("--reason", required=True)
        resume = self.subcommand("plan-resume", _("恢复计划"), write=True)
        resume.add_argument("plan", help=_("计划 id"))

        worklist = self.subcommand(
            "worklist", _("生成并列出某天的回访名单（可重复运行）"), write=False
        )
        worklist.add_argument("--date", help=_("日期，例：2024-05-01；默认今天"))
        worklist.add_argument("--mine", action="store_true", help=_("只看我负责的"))
        worklist.add_argument(
            "--enqueue", action="store_true", help=_("交给后台任务（db_worker）生成，不列出")
        )

        outcome = self.subcommand("outcome", _("记录一次回访结果"), write=True)
        outcome.add_argument("check_in", help=_("回访 id"))
        outcome.add_argument("outcome", choices=Outcome.values)
        outcome.add_argument("--channel", choices=Channel.values, default="")
        outcome.add_argument("--note", default="")
        outcome.add_argument("--needs", default="", help=_("有需求时：居民的需求"))
        outcome.add_argument("--follow-up", choices=FollowUp.values, default="")

        undo = self.subcommand("undo", _("撤销自己刚记录的结果（几分钟内）"), write=True)
        undo.add_argument("check_in", help=_("回访 id"))

        request = self.subcommand("request", _("今天（或某天）加访一位居民"), write=True)
        request.add_argument("resident", help=_("居民 id"))
        request.add_argument("--reason", required=True)
        request.add_argument("--date", help=_("日期；默认今天"))

        escalate = self.subcommand(
            "escalate",
            _("升级：到点仍未联系上的，派上门探视、通知紧急联系人和社区（可重复运行）"),
            write=False,
        )
        escalate.add_argument("--now", help=_("按此时刻判断（默认现在），例：2024-05-01T16:00"))
        escalate.add_argument("--check-in", help=_("只升级这一条（须 --actor）"))
        escalate.add_argument("--enqueue", action="store_true", help=_("交给后台任务执行"))

        cover = self.subcommand("coverage", _("各网格每天的回访覆盖率"), write=False)
        cover.add_argument("--since", help=_("从哪天起；默认 7 天前"))
        cover.add_argument("--until", help=_("到哪天；默认今天"))

        rules = self.subcommand("settings", _("查看或修改社区的再拨间隔和升级时间"), write=False)
        rules.add_argument("--community", help=_("社区编码"))
        rules.add_argument("--retry-minutes", type=positive_int)
        rules.add_argument("--escalate-at", help=_("例：16:00"))

    # --- plans --------------------------------------------------------------------------

    def do_plans(self, actor: User, options: Options) -> None:
        require(access.can_see_care(actor), _("您的角色无权查看关爱回访"))
        plans = access.visible_plans(actor)
        if options["q"]:
            plans = plans.filter(resident__in=Resident.objects.search(options["q"]))
        if options["status"]:
            plans = plans.filter(status=options["status"])
        if options["tag"]:
            tagged = CareTagAssignment._base_manager.filter(
                resident_id=OuterRef("resident_id"), tag=options["tag"]
            )
            plans = plans.filter(Exists(tagged))
        plans = plans.order_by("resident__household__address", "pk")
        total = plans.count()
        rows = [
            (
                p.pk,
                p.resident_id,
                p.resident.name,
                p.resident.household.address,
                p.schedule_label,
                p.get_channel_display(),
                p.owner or "",
                p.get_status_display() + (f"：{p.pause_reason}" if p.pause_reason else ""),
            )
            for p in plans[: options["limit"]]
        ]
        self.table(
            ("ID", _("居民id"), _("居民"), _("地址"), _("安排"), _("渠道"), _("负责人"), _("状态")),
            rows,
        )
        self.stdout.write(
            _("共 %(n)d 份计划，显示 %(shown)d 份") % {"n": total, "shown": len(rows)}
        )

    def do_plan_set(self, actor: User, options: Options) -> None:
        require(access.can_work_care(actor), _("只有网格员和社区工作人员可以修改关爱计划"))
        resident = registry_access.get_resident_for(actor, options["resident"])
        plan = access.visible_plans(actor).filter(resident=resident).first()
        if plan is not None and not options["kind"]:
            options["kind"] = plan.kind
        saved = actions.plan_save(
            actor=actor, resident=resident, data=_plan_input(actor, options), plan=plan
        )
        self.done(
            _("%(name)s 的关爱计划 #%(id)d 已保存：%(s)s")
            % {"name": resident.name, "id": saved.pk, "s": saved.schedule_label}
        )

    def do_plan_bulk(self, actor: User, options: Options) -> None:
        require(access.can_manage_care(actor), _("只有社区工作人员可以批量建立计划"))
        community = community_for(actor, options["community"])
        result = actions.plans_bulk_create(
            actor=actor, community=community, tags=options["tag"], data=_plan_input(actor, options)
        )
        self.done(
            _("已新建 %(created)d 份关爱计划，%(skipped)d 人已有计划未改动")
            % {"created": result.created, "skipped": result.skipped}
        )

    def do_plan_pause(self, actor: User, options: Options) -> None:
        require(access.can_work_care(actor), _("只有网格员和社区工作人员可以暂停计划"))
        (plan,) = rows_by_ids(access.visible_plans(actor), [options["plan"]], _("计划"))
        actions.plan_pause(actor=actor, plan=plan, reason=options["reason"])
        self.done(_("计划已暂停"))

    def do_plan_resume(self, actor: User, options: Options) -> None:
        require(access.can_work_care(actor), _("只有网格员和社区工作人员可以恢复计划"))
        (plan,) = rows_by_ids(access.visible_plans(actor), [options["plan"]], _("计划"))
        actions.plan_resume(actor=actor, plan=plan)
        self.done(_("计划已恢复"))

    # --- the worklist -------------------------------------------------------------------

    def do_worklist(self, actor: User, options: Options) -> None:
        require(access.can_see_care(actor), _("您的角色无权查看关爱回访"))
        day = parse_date(options["date"], "--date")
        communities = area_for(actor).communities if actor.pk else None
        if options["enqueue"]:
            tasks.worklist_generate.enqueue(day.isoformat())
            self.done(_("已交给后台任务生成 %(day)s 的回访名单") % {"day": day.isoformat()})
            return
        created = actions.worklist_generate(day, communities=communities)
        check_ins = access.visible_check_ins(actor).filter(due=day)
        if options["mine"]:
            check_ins = check_ins.filter(Q(owner=actor) | Q(owner__isnull=True))
        check_ins = check_ins.order_by("preferred_time", "resident__household__address", "pk")
        rows = [
            (
                c.pk,
                c.resident.name,
                c.resident.age if c.resident.age is not None else "",
                c.resident.household.address,
                c.resident.masked_phone,
                c.get_kind_display() + (f"（{c.reason}）" if c.reason else ""),
                c.owner or "",
                c.get_status_display(),
                when(c.retry_at, "H:i") if c.status == CheckInStatus.UNREACHED else "",
            )
            for c in check_ins
        ]
        self.table(
            (
                "ID",
                _("居民"),
                _("年龄"),
                _("地址"),
                _("电话"),
                _("类型"),
                _("负责人"),
                _("状态"),
                _("再拨"),
            ),
            rows,
        )
        self.stdout.write(
            _("%(day)s：共 %(n)d 人，本次新生成 %(created)d 条")
            % {"day": day.isoformat(), "n": len(rows), "created": created}
        )

    def do_outcome(self, actor: User, options: Options) -> None:
        require(access.can_work_care(actor), _("只有网格员和社区工作人员可以记录回访"))
        (check_in,) = rows_by_ids(access.visible_check_ins(actor), [options["check_in"]], _("回访"))
        actions.check_in_record(
            actor=actor,
            check_in=check_in,
            outcome=options["outcome"],
            channel=options["channel"],
            note=options["note"],
            needs=options["needs"],
            follow_up=options["follow_up"],
        )
        check_in.refresh_from_db()
        extra = _("，工单 #%(id)d") % {"id": check_in.ticket_id} if check_in.ticket_id else ""
        self.done(
            _("%(name)s：%(s)s%(extra)s")
            % {"name": check_in.resident.name, "s": check_in.get_status_display(), "extra": extra}
        )

    def do_undo(self, actor: User, options: Options) -> None:
        require(access.can_work_care(actor), _("只有网格员和社区工作人员可以撤销"))
        (check_in,) = rows_by_ids(access.visible_check_ins(actor), [options["check_in"]], _("回访"))
        check_in = actions.check_in_undo(actor=actor, check_in=check_in)
        self.done(_("已撤销，现在为：%(s)s") % {"s": check_in.get_status_display()})

    def do_request(self, actor: User, options: Options) -> None:
        require(access.can_work_care(actor), _("只有网格员和社区工作人员可以加访"))
        resident = registry_access.get_resident_for(actor, options["resident"])
        due = parse_date(options["date"], "--date") if options["date"] else None
        check_in = actions.check_in_request(
            actor, resident=resident, reason=options["reason"], due=due
        )
        self.done(
            _("已加入 %(day)s 的回访名单（回访 #%(id)d，负责人 %(owner)s）")
            % {"day": check_in.due.isoformat(), "id": check_in.pk, "owner": check_in.owner or "—"}
        )

    def do_escalate(self, actor: User, options: Options) -> None:
        if options["check_in"]:
            if actor.pk is None:
                raise CommandError(_("升级某一条须用 --actor 指定操作账号"))
            require(access.can_work_care(actor), _("只有网格员和社区工作人员可以升级"))
            (check_in,) = rows_by_ids(
                access.visible_check_ins(actor), [options["check_in"]], _("回访")
            )
            actions.check_in_escalate(actor=actor, check_in=check_in)
            self.done(_("已升级：派上门探视任务，通知紧急联系人和社区"))
            return
        if actor.pk is not None:
            raise CommandError(_("全量升级是系统任务，请不带 --actor 运行（或用 --check-in）"))
        now = parse_time(options["now"], "--now") if options["now"] else timezone.now()
        if options["enqueue"]:
            tasks.check_ins_escalate.enqueue(now.isoformat())
            self.done(_("已交给后台任务执行升级"))
            return
        escalated = actions.check_ins_escalate(now)
        for check_in in escalated:
            self.stdout.write(
                _("#%(id)d %(day)s 升级：派上门探视、通知紧急联系人和社区")
                % {"id": check_in.pk, "day": check_in.due.isoformat()}
            )
        self.done(_("共升级 %(n)d 条") % {"n": len(escalated)})

    # --- figures and rules --------------------------------------------------------------

    def do_coverage(self, actor: User, options: Options) -> None:
        require(access.can_see_care(actor), _("您的角色无权查看关爱回访"))
        until = parse_date(options["until"], "--until")
        since = (
            parse_date(options["since"], "--since")
            if options["since"]
            else until - dt.timedelta(days=6)
        )
        if since > until:
            raise CommandError(_("--until 不能早于 --since"))
        rows = coverage(access.visible_check_ins(actor), since, until)
        self.table(
            (_("日期"), _("网格"), _("应回访"), _("已联系上"), _("未联系上"), _("已升级"), "%"),
            [
                (
                    r.day.isoformat() if r.day else _("合计"),
                    r.grid,
                    r.planned,
                    r.reached,
                    r.not_reached,
                    r.escalated,
                    r.percent if r.percent is not None else "",
                )
                for r in rows
            ],
        )

    def do_settings(self, actor: User, options: Options) -> None:
        require(access.can_see_care(actor), _("您的角色无权查看关爱回访"))
        community = community_for(actor, options["community"])
        if options["retry_minutes"] is not None or options["escalate_at"]:
            if actor.pk is None:
                raise CommandError(_("请用 --actor 指定操作账号（用户名）"))
            require(access.can_manage_care(actor), _("只有社区工作人员可以修改回访设置"))
            current = CareSettings.for_community(community.pk)
            escalate_at = current.escalate_at
            if options["escalate_at"]:
                try:
                    escalate_at = dt.time.fromisoformat(options["escalate_at"])
                except ValueError:
                    raise CommandError(_("--escalate-at 不是有效时间（例：16:00）")) from None
            actions.care_settings_set(
                actor=actor,
                community=community,
                retry_minutes=options["retry_minutes"] or current.retry_minutes,
                escalate_at=escalate_at,
            )
        found = CareSettings.for_community(community.pk)
        self.stdout.write(
            format_fields(
                [
                    (_("社区"), community.name),
                    (_("未接通后再拨（分钟）"), found.retry_minutes),
                    (_("升级时间"), found.escalate_at.strftime("%H:%M")),
                ]
            )
        )
