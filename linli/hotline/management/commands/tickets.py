"""`linli tickets …`: tickets from the command line (list, show, create, every transition,
dispatch, notes, escalation, errand → task), scoped to the --actor's area."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    community_for,
    format_fields,
    positive_int,
    require,
    rows_by_ids,
    user_by_username,
    when,
)
from linli.hotline import access, actions
from linli.hotline.choices import Channel, Feedback, TicketStatus
from linli.hotline.models import Ticket
from linli.registry.models import Household, Resident
from linli.triage.choices import Category, Urgency


def _may(actor: User, ticket: Ticket, step: str) -> None:
    require(access.may_step(actor, ticket, step), _("您的角色无权对该工单进行此操作"))


def _ticket(actor: User, pk: str) -> Ticket:
    require(access.can_see_tickets(actor), _("您的角色无权查看工单"))
    return rows_by_ids(access.visible_tickets(actor), [pk], _("工单"))[0]


# Steps that take the ticket and one text: name → (help, option, keyword, required, action).
Step = tuple[str, str, str, bool, Callable[..., Any]]


def _steps() -> dict[str, Step]:
    return {
        "accept": (_("受理工单"), "--note", "note", False, actions.ticket_accept),
        "start": (_("开始处理"), "--note", "note", False, actions.ticket_start),
        "resolve": (
            _("办结（须填办理结果）"),
            "--resolution",
            "resolution",
            True,
            actions.ticket_resolve,
        ),
        "reopen": (_("已办结的工单重新处理"), "--reason", "reason", True, actions.ticket_reopen),
        "cancel": (_("撤销工单（须填原因）"), "--reason", "reason", True, actions.ticket_cancel),
        "escalate": (
            _("升级工单（须填原因）"),
            "--reason",
            "reason",
            True,
            actions.ticket_escalate,
        ),
    }


class Command(SubcommandCommand):
    help = "诉求工单：列表、详情、登记、受理/处理/办结/关闭/撤销、指派、备注、升级、转跑腿任务。"

    def add_subcommands(self) -> None:
        listing = self.subcommand("list", _("列出工单（默认未办结的，按紧急程度）"), write=False)
        listing.add_argument("--status", choices=TicketStatus.values)
        listing.add_argument("--all", action="store_true", help=_("包括已办结、已关闭和已撤销"))
        listing.add_argument("--category", choices=Category.values)
        listing.add_argument("--urgency", choices=Urgency.values)
        listing.add_argument("--limit", type=positive_int, default=100)

        show = self.subcommand("show", _("查看工单及其处理记录"), write=False)
        show.add_argument("id", help=_("工单 id"))

        create = self.subcommand(
            "create", _("登记工单（类别和紧急程度不填则自动分诊）"), write=True
        )
        create.add_argument("--community", help=_("社区编码（管辖多个社区时必填）"))
        create.add_argument("--channel", choices=Channel.values, default=Channel.PHONE)
        create.add_argument("--text", required=True, help=_("诉求内容"))
        create.add_argument("--resident", help=_("居民 id"))
        create.add_argument("--household", help=_("户 id"))
        create.add_argument("--phone", default="", help=_("来电号码"))
        create.add_argument("--name", default="", help=_("来电人姓名"))
        create.add_argument("--category", choices=Category.values)
        create.add_argument("--urgency", choices=Urgency.values)
        create.add_argument("--owner", help=_("负责人用户名（默认：网格员）"))
        create.add_argument("--hazard-location", default="")
        create.add_argument("--hazard-parties", default="")

        for name, (label, option, _keyword, required, _action) in _steps().items():
            parser = self.subcommand(name, label, write=True)
            parser.add_argument("id", help=_("工单 id"))
            parser.add_argument(option, required=required, default="")

        close = self.subcommand("close", _("关闭已办结的工单，记录居民评价"), write=True)
        close.add_argument("id", help=_("工单 id"))
        close.add_argument("--feedback", required=True, choices=Feedback.values)
        close.add_argument("--text", default="", help=_("评价说明"))

        assign = self.subcommand("assign", _("指派负责人"), write=True)
        assign.add_argument("id", help=_("工单 id"))
        assign.add_argument("owner", help=_("负责人用户名"))

        note = self.subcommand("note", _("添加备注"), write=True)
        note.add_argument("id", help=_("工单 id"))
        note.add_argument("text")

        reclassify = self.subcommand("reclassify", _("人工修改类别和紧急程度"), write=True)
        reclassify.add_argument("id", help=_("工单 id"))
        reclassify.add_argument("--category", required=True, choices=Category.values)
        reclassify.add_argument("--urgency", required=True, choices=Urgency.values)
        reclassify.add_argument("--reason", default="")

        errand = self.subcommand("errand", _("代配药/生活物资工单转为跑腿任务"), write=True)
        errand.add_argument("id", help=_("工单 id"))

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action in _steps():
            options["step"] = action
            options["action"] = "step"
            self.writes["step"] = True
        super().handle(*args, **options)

    def do_list(self, actor: User, options: Options) -> None:
        require(access.can_see_tickets(actor), _("您的角色无权查看工单"))
        tickets = access.visible_tickets(actor)
        if options["status"]:
            tickets = tickets.filter(status=options["status"])
        elif not options["all"]:
            tickets = tickets.open()
        if options["category"]:
            tickets = tickets.filter(category=options["category"])
        if options["urgency"]:
            tickets = tickets.filter(urgency=options["urgency"])
        rows = sorted(
            tickets[: options["limit"]], key=lambda t: (t.severity, t.seconds_left() or 0)
        )
        self.table(
            [
                _("编号"),
                _("紧急"),
                _("类别"),
                _("状态"),
                _("来电人/居民"),
                _("负责人"),
                _("时限"),
                _("内容"),
            ],
            [
                (
                    t.number,
                    t.get_urgency_display(),
                    t.get_category_display(),
                    t.get_status_display(),
                    t.who,
                    t.owner or "",
                    t.time_left_label,
                    t.description[:30],
                )
                for t in rows
            ],
        )

    def do_show(self, actor: User, options: Options) -> None:
        ticket = _ticket(actor, options["id"])
        self.stdout.write(
            format_fields(
                [
                    (_("编号"), ticket.number),
                    (_("社区"), ticket.community.name),
                    (_("渠道"), ticket.get_channel_display()),
                    (_("类别"), ticket.get_category_display()),
                    (_("紧急程度"), ticket.get_urgency_display()),
                    (_("分诊依据"), "、".join(ticket.triage_reasons)),
                    (_("人工修改分类"), _("是") if ticket.overridden else _("否")),
                    (_("状态"), ticket.get_status_display()),
                    (_("居民"), ticket.resident.name if ticket.resident else ""),
                    (_("地址"), ticket.household.address if ticket.household else ""),
                    (_("来电人"), ticket.caller_name),
                    (_("来电号码"), ticket.masked_caller_phone),
                    (_("诉求内容"), ticket.description),
                    (_("隐患位置"), ticket.hazard_location),
                    (_("责任方"), ticket.hazard_parties),
                    (_("负责人"), ticket.owner or ""),
                    (_("响应时限"), when(ticket.respond_by)),
                    (_("办结时限"), when(ticket.resolve_by)),
                    (_("剩余时间"), ticket.time_left_label),
                    (_("升级"), ticket.get_escalation_level_display()),
                    (_("办理结果"), ticket.resolution),
                    (_("居民评价"), ticket.get_feedback_display()),
                    (_("来源"), ticket.source),
                    (_("任务"), f"#{ticket.task_id}" if ticket.task_id else ""),
                ]
            )
        )
        self.stdout.write("")
        self.table(
            [_("时间"), _("操作人"), _("事项"), _("状态"), _("说明")],
            [
                (
                    when(e.at),
                    e.actor or _("系统"),
                    e.get_kind_display(),
                    e.get_to_status_display() if e.to_status else "",
                    e.note,
                )
                for e in ticket.events.select_related("actor")
            ],
        )

    def do_create(self, actor: User, options: Options) -> None:
        require(access.can_handle_tickets(actor), _("您的角色无权登记工单"))
        community = community_for(actor, options["community"])
        resident = None
        household = None
        if options["resident"]:
            resident = rows_by_ids(Resident.objects.all(), [options["resident"]], _("居民"))[0]
        if options["household"]:
            household = rows_by_ids(Household.objects.all(), [options["household"]], _("户"))[0]
        owner = user_by_username(options["owner"]) if options["owner"] else None
        ticket = actions.ticket_create(
            actor,
            actions.TicketInput(
                community=community,
                channel=options["channel"],
                description=options["text"],
                household=household,
                resident=resident,
                caller_phone=options["phone"],
                caller_name=options["name"],
                category=options["category"],
                urgency=options["urgency"],
                owner=owner,
                hazard_location=options["hazard_location"],
                hazard_parties=options["hazard_parties"],
            ),
        )
        reasons = "、".join(ticket.triage_reasons) or "—"
        self.done(
            _(
                "已登记工单 %(number)s：%(category)s·%(urgency)s"
                "（依据：%(reasons)s），负责人 %(owner)s"
            )
            % {
                "number": ticket.number,
                "category": ticket.get_category_display(),
                "urgency": ticket.get_urgency_display(),
                "reasons": reasons,
                "owner": ticket.owner or "—",
            }
        )

    def do_step(self, actor: User, options: Options) -> None:
        name = options["step"]
        label, option, keyword, _required, action = _steps()[name]
        ticket = _ticket(actor, options["id"])
        _may(actor, ticket, name)
        value = options[option.lstrip("-").replace("-", "_")]
        action(actor=actor, ticket=ticket, **{keyword: value})
        ticket.refresh_from_db()
        self.done(
            _("工单 %(number)s：%(label)s，当前 %(status)s")
            % {"number": ticket.number, "label": label, "status": ticket.get_status_display()}
        )

    def do_close(self, actor: User, options: Options) -> None:
        ticket = _ticket(actor, options["id"])
        _may(actor, ticket, "close")
        actions.ticket_close(
            actor=actor, ticket=ticket, feedback=options["feedback"], feedback_text=options["text"]
        )
        self.done(_("工单 %(number)s 已关闭") % {"number": ticket.number})

    def do_assign(self, actor: User, options: Options) -> None:
        ticket = _ticket(actor, options["id"])
        _may(actor, ticket, "assign")
        owner = user_by_username(options["owner"])
        actions.ticket_assign(actor=actor, ticket=ticket, owner=owner)
        self.done(
            _("工单 %(number)s 已指派给 %(owner)s") % {"number": ticket.number, "owner": owner}
        )

    def do_note(self, actor: User, options: Options) -> None:
        ticket = _ticket(actor, options["id"])
        _may(actor, ticket, "note")
        actions.ticket_note(actor=actor, ticket=ticket, note=options["text"])
        self.done(_("已添加备注"))

    def do_reclassify(self, actor: User, options: Options) -> None:
        ticket = _ticket(actor, options["id"])
        _may(actor, ticket, "reclassify")
        ticket = actions.ticket_reclassify(
            actor=actor,
            ticket=ticket,
            category=options["category"],
            urgency=options["urgency"],
            reason=options["reason"],
        )
        self.done(
            _("工单 %(number)s 改为 %(category)s·%(urgency)s，响应时限 %(respond)s")
            % {
                "number": ticket.number,
                "category": ticket.get_category_display(),
                "urgency": ticket.get_urgency_display(),
                "respond": when(ticket.respond_by),
            }
        )

    def do_errand(self, actor: User, options: Options) -> None:
        ticket = _ticket(actor, options["id"])
        _may(actor, ticket, "errand")
        task = actions.ticket_to_task(actor=actor, ticket=ticket)
        self.done(_("已转为跑腿任务 #%(id)s：%(title)s") % {"id": task.pk, "title": task.title})
