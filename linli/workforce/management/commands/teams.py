"""`linli teams list|create|add-member`: teams (临时党支部, 志愿服务队) from the command line."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    community_for,
    require,
    rows_by_ids,
    user_by_username,
)
from linli.registry.models import Building
from linli.workforce import access, actions
from linli.workforce.choices import TeamKind
from linli.workforce.models import Team


def _members(actor: User, options: Options) -> list[User]:
    """Accounts named with --volunteer (volunteer ids) and --user (usernames)."""
    users = [access.get_volunteer_for(actor, pk).user for pk in options["volunteer"]]
    return users + [user_by_username(name) for name in options["user"]]


class Command(SubcommandCommand):
    help = "队伍（临时党支部、志愿服务队）：列表、新建、添加成员。"

    def add_subcommands(self) -> None:
        self.subcommand("list", _("列出队伍"), write=False)

        create = self.subcommand("create", _("新建队伍"), write=True)
        create.add_argument("--community", help=_("社区编码（管辖多个社区时必填）"))
        create.add_argument("--name", required=True)
        create.add_argument("--kind", required=True, choices=TeamKind.values)
        create.add_argument("--leader-volunteer", help=_("负责人（志愿者 id）"))
        create.add_argument("--volunteer", nargs="+", default=[], help=_("成员（志愿者 id）"))
        create.add_argument("--user", nargs="+", default=[], help=_("成员（工作人员用户名）"))
        create.add_argument("--building", nargs="+", default=[], help=_("服务楼栋 id"))

        add = self.subcommand("add-member", _("给队伍添加成员"), write=True)
        add.add_argument("id", help=_("队伍 id"))
        add.add_argument("--volunteer", nargs="+", default=[], help=_("志愿者 id"))
        add.add_argument("--user", nargs="+", default=[], help=_("工作人员用户名"))

    def do_list(self, actor: User, options: Options) -> None:
        teams = access.visible_teams(actor).prefetch_related("members")
        self.table(
            ("ID", _("名称"), _("类型"), _("负责人"), _("成员数"), _("社区")),
            [
                (
                    t.pk,
                    t.name,
                    t.get_kind_display(),
                    t.leader or "",
                    len(t.members.all()),
                    t.community.name,
                )
                for t in teams
            ],
        )

    def do_create(self, actor: User, options: Options) -> None:
        require(access.can_manage_volunteers(actor), _("您的角色无权管理队伍"))
        community = community_for(actor, options["community"])
        leader = None
        if options["leader_volunteer"]:
            leader = access.get_volunteer_for(actor, options["leader_volunteer"]).user
        buildings = rows_by_ids(
            Building.objects.select_related("compound"), options["building"], _("楼栋")
        )
        team = actions.team_save(
            actor=actor,
            community=community,
            name=options["name"],
            kind=options["kind"],
            leader=leader,
            members=_members(actor, options),
            buildings=buildings,
        )
        self.done(
            _("已新建队伍 %(id)d：%(name)s（%(n)d 人）")
            % {"id": team.pk, "name": team.name, "n": team.members.count()}
        )

    def do_add_member(self, actor: User, options: Options) -> None:
        require(access.can_manage_volunteers(actor), _("您的角色无权管理队伍"))
        team: Team = access.get_team_for(actor, options["id"])
        added = _members(actor, options)
        if not added:
            raise CommandError(_("请用 --volunteer 或 --user 指定要添加的成员"))
        actions.team_save(
            actor=actor,
            community=team.community,
            name=team.name,
            kind=team.kind,
            leader=team.leader,
            members=[*team.members.all(), *added],
            buildings=list(team.buildings.select_related("compound")),
            team=team,
        )
        self.done(_("队伍 %(name)s 现有 %(n)d 人") % {"name": team.name, "n": team.members.count()})
