"""`linli hotline …`: the hotline's background job and settings — `escalate` (run from cron
every minute: every overdue ticket one level up), `sla` (the targets of a community) and
`sla-set` (change one)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    community_for,
    positive_int,
    require,
    when,
)
from linli.hotline import access, actions
from linli.triage.choices import Category, Urgency


def minutes_text(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        return _("%(n)d天") % {"n": minutes // (24 * 60)}
    if minutes % 60 == 0:
        return _("%(n)d小时") % {"n": minutes // 60}
    return _("%(n)d分钟") % {"n": minutes}


class Command(SubcommandCommand):
    help = "24小时专线：升级超时工单（供 cron 每分钟运行）、查看和修改时限标准。"

    def add_subcommands(self) -> None:
        self.subcommand(
            "escalate", _("把所有超时工单升级一级（社区 → 街道），并通知相关人员"), write=False
        )
        sla = self.subcommand("sla", _("查看社区的响应和办结时限"), write=False)
        sla.add_argument("--community", help=_("社区编码"))
        sla_set = self.subcommand("sla-set", _("修改一项时限（分钟）"), write=True)
        sla_set.add_argument("--community", help=_("社区编码"))
        sla_set.add_argument("--category", required=True, choices=Category.values)
        sla_set.add_argument("--urgency", required=True, choices=Urgency.values)
        sla_set.add_argument(
            "--respond", required=True, type=positive_int, help=_("响应时限（分钟）")
        )
        sla_set.add_argument(
            "--resolve", required=True, type=positive_int, help=_("办结时限（分钟）")
        )

    def do_escalate(self, actor: User, options: Options) -> None:
        now = timezone.now()
        escalated = actions.tickets_escalate(now)
        for ticket in escalated:
            self.stdout.write(
                f"{ticket.number} {ticket.community.name} {ticket.get_escalation_level_display()}"
            )
        self.done(
            _("%(time)s 升级了 %(n)d 个超时工单")
            % {"time": when(now, "Y-m-d H:i:s"), "n": len(escalated)}
        )

    def do_sla(self, actor: User, options: Options) -> None:
        require(access.can_see_figures(actor), _("您的角色无权查看时限标准"))
        community = community_for(actor, options["community"])
        self.table(
            [_("类别"), _("紧急程度"), _("响应时限"), _("办结时限")],
            [
                (
                    t.get_category_display(),
                    t.get_urgency_display(),
                    minutes_text(t.respond_minutes),
                    minutes_text(t.resolve_minutes),
                )
                for t in actions.sla_targets_seed(community)
            ],
        )

    def do_sla_set(self, actor: User, options: Options) -> None:
        require(access.can_edit_sla(actor), _("只有社区工作人员可以修改时限标准"))
        community = community_for(actor, options["community"])
        target = actions.sla_target_save(
            actor=actor,
            community=community,
            category=options["category"],
            urgency=options["urgency"],
            respond_minutes=options["respond"],
            resolve_minutes=options["resolve"],
        )
        self.done(
            _("%(target)s：响应 %(respond)s，办结 %(resolve)s")
            % {
                "target": target,
                "respond": minutes_text(target.respond_minutes),
                "resolve": minutes_text(target.resolve_minutes),
            }
        )
