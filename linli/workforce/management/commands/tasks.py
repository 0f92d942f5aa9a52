"""`linli tasks …`: the task board from the command line (list, create, every transition,
the doors of a delivery, and hours)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from linli.accounts.models import User
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
from linli.registry.models import Building, Household
from linli.workforce import access, actions, figures
from linli.workforce.choices import Skill, TaskKind, TaskStatus
from linli.workforce.models import Task, TaskStop


def _dispatcher(actor: User, task: Task | None = None) -> None:
    require(access.can_dispatch(actor), _("您的角色无权派发或管理任务"))


def _may(step: str) -> Callable[[User, Task], None]:
    def check(actor: User, task: Task) -> None:
        require(access.may_step(actor, task, step), _("这不是您的任务，您的角色也不能代为操作"))

    return check


# Transitions that take only the task: name → (who may, the action, help, done message).
Transition = tuple[Callable[[User, Task], None], Callable[..., Task], str, str]


def _transitions() -> dict[str, Transition]:
    return {
        "accept": (_may("accept"), actions.task_accept, _("接受指派给自己的任务"), _("已接受任务")),
        "release": (
            _may("release"),
            actions.task_release,
            _("退回任务（重新变为待领取）"),
            _("任务已退回"),
        ),
        "start": (
            _may("start"),
            actions.task_start,
            _("出发：开始任务（各户收到收货码）"),
            _("任务已开始"),
        ),
        "finish": (_may("finish"), actions.task_finish, _("完成任务"), _("任务已完成")),
        "fail": (
            _may("fail"),
            actions.task_fail,
            _("任务未完成（须填原因）"),
            _("已记为未完成"),
        ),
        "reopen": (
            _may("reopen"),
            actions.task_reopen,
            _("未完成的任务重新发布"),
            _("任务已重新发布"),
        ),
        "cancel": (_may("cancel"), actions.task_cancel, _("取消任务（须填原因）"), _("任务已取消")),
    }


# Which extra text each transition takes, as (option, action keyword, required).
_TEXT_OPTIONS = {
    "release": ("--reason", "reason", False),
    "finish": ("--note", "note", False),
    "fail": ("--reason", "reason", True),
    "reopen": ("--reason", "reason", False),
    "cancel": ("--reason", "reason", True),
}


class Command(SubcommandCommand):
    help = (
        "任务：列表、详情、新建、指派/领取/接受/退回/出发/完成/未完成/重新发布/取消、"
        "送达点、服务时长。"
    )

    def add_subcommands(self) -> None:
        listing = self.subcommand("list", _("列出任务"), write=False)
        listing.add_argument("--status", choices=TaskStatus.values)
        listing.add_argument("--kind", choices=TaskKind.values)
        listing.add_argument("--limit", type=positive_int, default=100)

        show = self.subcommand("show", _("查看任务及其送达点和记录"), write=False)
        show.add_argument("id", help=_("任务 id"))

        create = self.subcommand("create", _("新建任务"), write=True)
        create.add_argument("--community", help=_("社区编码（管辖多个社区时必填）"))
        create.add_argument("--kind", required=True, choices=TaskKind.values)
        create.add_argument("--title", required=True)
        create.add_argument("--description", default="")
        create.add_argument("--place", default="", help=_("地点说明（默认取楼栋）"))
        create.add_argument("--building", nargs="+", default=[], help=_("楼栋 id"))
        create.add_argument("--household", nargs="+", default=[], help=_("送达的户 id"))
        create.add_argument("--items", default="", help=_("每户的物品"))
        create.add_argument("--starts-at", help=_("开始时间，例：2024-05-01T08:00"))
        create.add_argument("--ends-at", help=_("结束时间"))
        create.add_argument("--skill", nargs="+", default=[], choices=Skill.values)
        create.add_argument("--size", type=positive_int)

        assign = self.subcommand("assign", _("指派给志愿者"), write=True)
        assign.add_argument("id", help=_("任务 id"))
        assign.add_argument("volunteer", help=_("志愿者 id"))

        take = self.subcommand(
            "take", _("志愿者领取待领取的任务（--actor 为志愿者账号）"), write=True
        )
        take.add_argument("id", help=_("任务 id"))

        for name, (_who, _action, label, _message) in _transitions().items():
            parser = self.subcommand(name, label, write=True)
            parser.add_argument("id", help=_("任务 id"))
            if name in _TEXT_OPTIONS:
                option, _keyword, required = _TEXT_OPTIONS[name]
                parser.add_argument(option, required=required, default="")

        deliver = self.subcommand("deliver", _("送达：输入住户告知的收货码"), write=True)
        deliver.add_argument("stop", help=_("送达点 id"))
        deliver.add_argument("code", help=_("收货码"))
        door = self.subcommand("left-at-door", _("无接触配送：已放门口（通知住户）"), write=True)
        door.add_argument("stop", help=_("送达点 id"))
        stop_fail = self.subcommand("stop-fail", _("该户未送达（须填原因）"), write=True)
        stop_fail.add_argument("stop", help=_("送达点 id"))
        stop_fail.add_argument("--reason", required=True)

        hours = self.subcommand("hours", _("服务时长：按志愿者、按队伍、按天和类型"), write=False)
        hours.add_argument("--since", help=_("从哪天起，例：2024-05-01"))

    # --- reading ----------------------------------------------------------------------

    def do_list(self, actor: User, options: Options) -> None:
        tasks = access.visible_tasks(actor)
        if options["status"]:
            tasks = tasks.filter(status=options["status"])
        if options["kind"]:
            tasks = tasks.filter(kind=options["kind"])
        total = tasks.count()
        rows = [
            (
                t.pk,
                t.get_kind_display(),
                t.title,
                t.place,
                when(t.starts_at, "m-d H:i"),
                t.get_status_display(),
                t.volunteer.name if t.volunteer else "",
                t.size,
                t.hours if t.status == TaskStatus.DONE else "",
            )
            for t in tasks[: options["limit"]]
        ]
        headers = (
            "ID",
            _("类型"),
            _("标题"),
            _("地点"),
            _("开始"),
            _("状态"),
            _("志愿者"),
            _("工作量"),
            _("时长(小时)"),
        )
        self.table(headers, rows)
        self.stdout.write(
            _("共 %(n)d 个任务，显示 %(shown)d 个") % {"n": total, "shown": len(rows)}
        )

    def do_show(self, actor: User, options: Options) -> None:
        task = access.get_task_for(actor, options["id"])
        self.stdout.write(
            format_fields(
                [
                    ("ID", task.pk),
                    (_("类型"), task.get_kind_display()),
                    (_("标题"), task.title),
                    (_("说明"), task.description),
                    (_("地点"), task.place),
                    (
                        _("时间"),
                        f"{when(task.starts_at)} – {when(task.ends_at)}" if task.starts_at else "",
                    ),
                    (_("所需技能"), "、".join(task.required_skill_labels)),
                    (_("工作量"), task.size),
                    (_("状态"), task.get_status_display()),
                    (_("志愿者"), task.volunteer.name if task.volunteer else ""),
                    (_("未完成原因"), task.failure_reason),
                    (_("服务时长"), _("%(m)d 分钟") % {"m": task.minutes} if task.minutes else ""),
                ]
            )
        )
        if task.has_doors and access.can_see_doors(actor, task):
            codes = access.can_see_door_codes(actor)
            self.stdout.write("")
            headers = ["ID", _("地址"), _("物品"), _("状态"), _("原因")]
            if codes:
                headers.append(_("收货码"))
            rows = []
            for stop in task.stops.all():
                row: list[object] = [
                    stop.pk,
                    stop.address,
                    stop.items,
                    stop.get_status_display(),
                    stop.failure_reason,
                ]
                if codes:
                    row.append(stop.door_code)
                rows.append(row)
            self.table(headers, rows)
        self.stdout.write("")
        events = task.events.select_related("actor")
        self.table(
            (_("时间"), _("操作人"), _("状态"), _("说明")),
            [
                (
                    when(e.at),
                    e.actor or "",
                    f"{TaskStatus(e.from_status).label if e.from_status else ''}→"
                    f"{TaskStatus(e.to_status).label if e.to_status else ''}",
                    e.note,
                )
                for e in events
            ],
        )

    def do_hours(self, actor: User, options: Options) -> None:
        since = None
        if options["since"]:
            since = parse_time(
                parse_date(options["since"], "--since").isoformat() + "T00:00", "--since"
            )
        tasks = access.visible_tasks(actor)
        self.stdout.write(_("按志愿者"))
        self.table(
            ("ID", _("志愿者"), _("任务数"), _("时长(小时)")),
            [(r.id, r.name, r.tasks, r.hours) for r in figures.hours_by_volunteer(tasks, since)],
        )
        self.stdout.write("")
        self.stdout.write(_("按队伍"))
        teams = figures.hours_by_team(access.visible_teams(actor), tasks, since)
        self.table(
            ("ID", _("队伍"), _("任务数"), _("时长(小时)")),
            [(r.id, r.name, r.tasks, r.hours) for r in teams],
        )
        self.stdout.write("")
        self.stdout.write(_("按天和类型（已完成）"))
        self.table(
            (_("日期"), _("类型"), _("任务数"), _("时长(小时)")),
            [
                (r.day.isoformat(), r.kind_label, r.tasks, r.hours)
                for r in figures.done_by_day_and_kind(tasks, since)
            ],
        )

    # --- writing ----------------------------------------------------------------------

    def do_create(self, actor: User, options: Options) -> None:
        _dispatcher(actor)
        community = community_for(actor, options["community"])
        buildings = rows_by_ids(
            Building.objects.select_related("compound"), options["building"], _("楼栋")
        )
        households = rows_by_ids(
            Household.objects.select_related("unit__building"), options["household"], _("户")
        )
        if options["items"] and not households:
            raise CommandError(_("--items 要与 --household 一起使用"))
        task = actions.task_create(
            actor=actor,
            community=community,
            kind=options["kind"],
            title=options["title"],
            description=options["description"],
            buildings=buildings,
            place=options["place"],
            starts_at=parse_time(options["starts_at"], "--starts-at")
            if options["starts_at"]
            else None,
            ends_at=parse_time(options["ends_at"], "--ends-at") if options["ends_at"] else None,
            required_skills=options["skill"],
            size=options["size"],
            stops=[actions.StopInput(household=h, items=options["items"]) for h in households],
        )
        self.done(
            _("已新建任务 %(id)d：%(title)s（%(stops)d 户）")
            % {"id": task.pk, "title": task.title, "stops": len(households)}
        )

    def do_assign(self, actor: User, options: Options) -> None:
        _dispatcher(actor)
        task = access.get_task_for(actor, options["id"])
        volunteer = access.get_volunteer_for(actor, options["volunteer"])
        actions.task_assign(actor=actor, task=task, volunteer=volunteer)
        self.done(
            _("任务 %(id)d 已指派给 %(name)s，等待其接受。")
            % {"id": task.pk, "name": volunteer.name}
        )

    def do_take(self, actor: User, options: Options) -> None:
        volunteer = access.volunteer_of(actor)
        require(volunteer is not None, _("只有志愿者账号可以领取任务"))
        assert volunteer is not None  # noqa: S101 (for mypy: require raised otherwise)
        task = access.get_task_for(actor, options["id"])
        actions.task_take(volunteer=volunteer, task=task)
        self.done(_("已领取任务 %(id)d：%(title)s") % {"id": task.pk, "title": task.title})

    def do_accept(self, actor: User, options: Options) -> None:
        self.transition("accept", actor, options)

    def do_release(self, actor: User, options: Options) -> None:
        self.transition("release", actor, options)

    def do_start(self, actor: User, options: Options) -> None:
        self.transition("start", actor, options)

    def do_finish(self, actor: User, options: Options) -> None:
        self.transition("finish", actor, options)

    def do_fail(self, actor: User, options: Options) -> None:
        self.transition("fail", actor, options)

    def do_reopen(self, actor: User, options: Options) -> None:
        self.transition("reopen", actor, options)

    def do_cancel(self, actor: User, options: Options) -> None:
        self.transition("cancel", actor, options)

    def transition(self, name: str, actor: User, options: Options) -> None:
        who, action, _label, message = _transitions()[name]
        task = access.get_task_for(actor, options["id"])
        who(actor, task)
        extra = {}
        if name in _TEXT_OPTIONS:
            option, keyword, _required = _TEXT_OPTIONS[name]
            extra[keyword] = options[option.lstrip("-")]
        task = action(actor=actor, task=task, **extra)
        self.done(
            _("%(message)s：任务 %(id)d，当前“%(status)s”")
            % {"message": message, "id": task.pk, "status": task.get_status_display()}
        )

    def _stop(self, actor: User, options: Options) -> TaskStop:
        stop = access.get_stop_for(actor, options["stop"])
        _may("deliver")(actor, stop.task)  # same rule for every door step
        return stop

    def do_deliver(self, actor: User, options: Options) -> None:
        stop = actions.stop_deliver(
            actor=actor, stop=self._stop(actor, options), code=options["code"]
        )
        self.done(_("%(address)s 已送达（收货码核对无误）") % {"address": stop.address})

    def do_left_at_door(self, actor: User, options: Options) -> None:
        stop = actions.stop_left_at_door(actor=actor, stop=self._stop(actor, options))
        self.done(_("%(address)s 已放门口，已通知住户") % {"address": stop.address})

    def do_stop_fail(self, actor: User, options: Options) -> None:
        stop = actions.stop_fail(
            actor=actor, stop=self._stop(actor, options), reason=options["reason"]
        )
        self.done(_("%(address)s 记为未送达") % {"address": stop.address})
