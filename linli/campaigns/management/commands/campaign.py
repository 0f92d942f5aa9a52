"""`linli campaign …`: campaigns from the command line (list, create, rounds, exemptions,
import of the testing system's export, completion, the sweep list and door service)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import CommandError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.campaigns import access, actions, documents, reconcile
from linli.campaigns.choices import IMPORT_FIELDS, CampaignKind, ExemptionReason
from linli.campaigns.models import CampaignRound
from linli.commandline import Options, SubcommandCommand, community_for, parse_date, require
from linli.registry import access as registry_access
from linli.registry.models import Community, Street, UserArea


class Command(SubcommandCommand):
    help = "普查与核酸：活动、轮次、免检、导入采样记录、完成率、扫楼名单、上门采样。"

    def add_subcommands(self) -> None:
        self.subcommand("list", _("列出活动及其轮次"), write=False)

        create = self.subcommand("create", _("新建活动"), write=True)
        create.add_argument("--name", required=True)
        create.add_argument("--kind", required=True, choices=CampaignKind.values)
        create.add_argument("--community", help=_("社区编码；街道管理员不填表示全街道"))
        create.add_argument("--notes", default="")

        new_round = self.subcommand("round-create", _("为活动添加一轮"), write=True)
        new_round.add_argument("campaign", help=_("活动 id"))
        new_round.add_argument("--date", help=_("日期，例：2022-04-10（默认今天）"))

        point = self.subcommand("point", _("添加采样点，或用 --point 修改一个"), write=True)
        point.add_argument("campaign", help=_("活动 id"))
        point.add_argument("--point", help=_("要修改的采样点 id（不填则新建）"))
        point.add_argument("--name", required=True, help=_("采样点名称"))
        point.add_argument("--location", default="", help=_("位置"))
        point.add_argument("--opens", default="07:30", help=_("开放时间，例：07:30"))
        point.add_argument("--closes", default="11:30", help=_("关闭时间，例：11:30"))
        point.add_argument("--buildings", default="", help=_("服务的楼栋 id，逗号分隔"))

        exempt = self.subcommand("exempt", _("登记免检"), write=True)
        exempt.add_argument("campaign", help=_("活动 id"))
        exempt.add_argument("resident", help=_("居民 id"))
        exempt.add_argument("--reason", required=True, choices=ExemptionReason.values)
        exempt.add_argument("--from", dest="starts_on", help=_("开始日期（默认今天）"))
        exempt.add_argument("--to", dest="ends_on", help=_("结束日期（可不填）"))
        exempt.add_argument("--note", default="")

        revoke = self.subcommand("unexempt", _("撤销免检"), write=True)
        revoke.add_argument("exemption", help=_("免检 id"))

        load = self.subcommand("import", _("导入检测系统导出的采样记录"), write=True)
        load.add_argument("round", help=_("轮次 id"))
        load.add_argument("file", help=_(".xlsx 或 .csv（UTF-8 或 GBK）"))
        load.add_argument(
            "--map",
            nargs="+",
            default=[],
            metavar="FIELD=HEADER",
            help=_("列对应，如 id_number=证件号码；字段：") + "、".join(IMPORT_FIELDS),
        )

        rematch = self.subcommand("rematch", _("按最新居民信息重新匹配本轮记录"), write=True)
        rematch.add_argument("round", help=_("轮次 id"))

        done = self.subcommand("completion", _("完成率（按楼栋、网格或社区）"), write=False)
        done.add_argument("round", help=_("轮次 id"))
        done.add_argument("--by", choices=list(reconcile.GROUPS), default="building")

        sweep = self.subcommand("sweep", _("扫楼名单：未采的居民（手机号隐去）"), write=False)
        sweep.add_argument("round", help=_("轮次 id"))
        sweep.add_argument(
            "--tasks", action="store_true", help=_("同时按楼栋发布扫楼任务（需 --actor）")
        )
        sweep.add_argument("--pdf", metavar="FILE", help=_("同时把名单打印成 A4 PDF 写入此文件"))

        door = self.subcommand("door-service", _("上门采样名单"), write=False)
        door.add_argument("round", help=_("轮次 id"))
        door.add_argument(
            "--tasks", action="store_true", help=_("同时按楼栋发布上门采样任务（需 --actor）")
        )

    def _round(self, actor: User, pk: str) -> CampaignRound:
        if not pk.isdigit():
            raise CommandError(_("轮次 id 应为数字：%(id)s") % {"id": pk})
        return access.get_round_for(actor, pk)

    def do_list(self, actor: User, options: Options) -> None:
        require(access.can_see_campaigns(actor), _("您的角色无权查看普查与核酸"))
        rows = [
            (
                c.pk,
                c.name,
                c.get_kind_display(),
                c.area_label,
                " ".join(f"#{r.pk}:第{r.number}轮{r.date:%m-%d}" for r in c.rounds.all()),
            )
            for c in access.visible_campaigns(actor).prefetch_related("rounds")
        ]
        self.table(["id", _("活动"), _("类型"), _("范围"), _("轮次")], rows)

    def do_create(self, actor: User, options: Options) -> None:
        require(access.can_manage_campaigns(actor), _("您的角色无权管理普查与核酸活动"))
        community: Community | None = None
        if options["community"] or actor.role != Role.STREET_ADMIN:
            community = community_for(actor, options["community"])
            street: Street = community.street
        else:
            area = UserArea.objects.filter(user=actor).select_related("street").first()
            if area is None or area.street is None:
                raise CommandError(_("请用 --community 指定社区编码"))
            street = area.street
        campaign = actions.campaign_create(
            actor=actor,
            street=street,
            community=community,
            name=options["name"],
            kind=options["kind"],
            notes=options["notes"],
        )
        self.done(_("已创建活动 #%(id)s %(name)s") % {"id": campaign.pk, "name": campaign.name})

    def do_round_create(self, actor: User, options: Options) -> None:
        require(access.can_manage_campaigns(actor), _("您的角色无权管理普查与核酸活动"))
        campaign = access.get_campaign_for(actor, options["campaign"])
        require(access.may_manage(actor, campaign), _("您的角色无权管理此活动"))
        new = actions.round_create(
            actor=actor, campaign=campaign, date=parse_date(options["date"], "--date")
        )
        self.done(_("已添加轮次 #%(id)s（第%(n)d轮）") % {"id": new.pk, "n": new.number})

    def do_point(self, actor: User, options: Options) -> None:
        require(access.can_manage_campaigns(actor), _("您的角色无权管理普查与核酸活动"))
        campaign = access.get_campaign_for(actor, options["campaign"])
        require(access.may_manage(actor, campaign), _("您的角色无权管理此活动"))
        point = None
        if options["point"]:
            point = access.get_point_for(actor, options["point"])
            if point.campaign_id != campaign.pk:
                raise CommandError(_("采样点 %(id)s 不属于该活动") % {"id": point.pk})
        ids = [part.strip() for part in options["buildings"].split(",") if part.strip()]
        if any(not part.isdigit() for part in ids):
            raise CommandError(_("--buildings 应为逗号分隔的楼栋 id"))
        buildings = list(registry_access.visible_buildings(actor).filter(pk__in=ids))
        if len(buildings) != len(set(ids)):
            raise CommandError(_("有楼栋不存在或不在您的管辖范围内"))
        saved = actions.point_save(
            actor=actor,
            campaign=campaign,
            point=point,
            name=options["name"],
            location=options["location"],
            opens_at=_time(options["opens"], "--opens"),
            closes_at=_time(options["closes"], "--closes"),
            buildings=buildings,
        )
        self.done(_("已保存采样点 #%(id)s %(name)s") % {"id": saved.pk, "name": saved.name})

    def do_exempt(self, actor: User, options: Options) -> None:
        require(access.can_exempt(actor), _("您的角色无权登记免检"))
        campaign = access.get_campaign_for(actor, options["campaign"])
        resident = registry_access.get_resident_for(actor, options["resident"])
        exemption = actions.exemption_save(
            actor=actor,
            campaign=campaign,
            resident=resident,
            reason=options["reason"],
            starts_on=parse_date(options["starts_on"], "--from"),
            ends_on=parse_date(options["ends_on"], "--to") if options["ends_on"] else None,
            note=options["note"],
        )
        self.done(_("已登记免检 #%(id)s：%(name)s") % {"id": exemption.pk, "name": resident.name})

    def do_unexempt(self, actor: User, options: Options) -> None:
        require(access.can_exempt(actor), _("您的角色无权登记免检"))
        exemption = access.get_exemption_for(actor, options["exemption"])
        actions.exemption_revoke(actor=actor, exemption=exemption)
        self.done(_("已撤销免检 #%(id)s") % {"id": exemption.pk})

    def do_import(self, actor: User, options: Options) -> None:
        require(access.can_manage_campaigns(actor), _("您的角色无权管理普查与核酸活动"))
        the_round = self._round(actor, options["round"])
        require(access.may_manage(actor, the_round.campaign), _("您的角色无权管理此活动"))
        mapping = {}
        for pair in options["map"]:
            field, sep, header = pair.partition("=")
            if not sep or field not in IMPORT_FIELDS:
                raise CommandError(
                    _("--map 应为 字段=列名，字段为：%(fields)s")
                    % {"fields": "、".join(IMPORT_FIELDS)}
                )
            mapping[field] = header
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as e:
            raise CommandError(_("无法读取文件：%(reason)s") % {"reason": e.strerror}) from e
        batch = actions.records_import(
            actor=actor, round=the_round, data=data, filename=path.name, mapping=mapping
        )
        self.stdout.write(
            _(
                "%(rows)d 行：新增 %(added)d，此前已导入 %(already)d，文件内重复 %(repeated)d；"
                "按身份证号匹配 %(by_id)d，按姓名+手机号 %(by_phone)d，未匹配 %(unmatched)d，"
                "重复采样 %(dup)d"
            )
            % {
                "rows": batch.rows,
                "added": batch.added,
                "already": batch.already,
                "repeated": batch.repeated,
                "by_id": batch.matched_id,
                "by_phone": batch.matched_name_phone,
                "unmatched": batch.unmatched,
                "dup": batch.duplicates,
            }
        )
        self.done(_("已导入（导入 #%(id)s）") % {"id": batch.pk})

    def do_rematch(self, actor: User, options: Options) -> None:
        require(access.can_manage_campaigns(actor), _("您的角色无权管理普查与核酸活动"))
        the_round = self._round(actor, options["round"])
        require(access.may_manage(actor, the_round.campaign), _("您的角色无权管理此活动"))
        changed = actions.records_rematch(actor=actor, round=the_round)
        self.done(_("已重新匹配，%(n)d 条记录有变化") % {"n": changed})

    def do_completion(self, actor: User, options: Options) -> None:
        require(access.can_see_campaigns(actor), _("您的角色无权查看普查与核酸"))
        the_round = self._round(actor, options["round"])
        figures = reconcile.round_figures(the_round, access.visible_records(actor, the_round))
        self.stdout.write(
            _("应检 %(e)d，已采 %(r)d，未采 %(m)d，完成率 %(p).1f%%，免检 %(x)d，未匹配记录 %(u)d")
            % {
                "e": figures.expected,
                "r": figures.reached,
                "m": figures.missing,
                "p": figures.percent,
                "x": figures.exempted,
                "u": figures.unmatched,
            }
        )
        rows = [
            (r.label, r.expected, r.reached, r.missing, f"{r.percent:.1f}%")
            for r in reconcile.completion(the_round, options["by"])
        ]
        self.table([_("范围"), _("应检"), _("已采"), _("未采"), _("完成率")], rows)

    def _need_writer(self, actor: User, options: Options) -> None:
        if options["tasks"]:
            if not options.get("actor"):
                raise CommandError(_("请用 --actor 指定操作账号（用户名）"))
            require(access.can_make_tasks(actor), _("您的角色无权发布任务"))

    def do_sweep(self, actor: User, options: Options) -> None:
        require(access.can_see_campaigns(actor), _("您的角色无权查看普查与核酸"))
        self._need_writer(actor, options)
        the_round = self._round(actor, options["round"])
        missing = list(reconcile.missing_residents(the_round))
        reasons = reconcile.door_reasons(missing, the_round.date)
        rows = [
            (
                r.household.grid.name if r.household.grid else _("未划网格"),
                str(r.household.unit.building),
                r.household.unit.name,
                r.household.room,
                r.name,
                r.masked_phone,
                reasons[r.pk],
                r.pk,
            )
            for r in missing
        ]
        self.table(
            [_("网格"), _("楼栋"), _("单元"), _("房号"), _("姓名"), _("手机号"), _("上门"), "id"],
            rows,
        )
        self.stdout.write(_("共 %(n)d 人未采") % {"n": len(rows)})
        if options["pdf"]:
            # No web request here: the PDF's own links (none) resolve against localhost.
            request = HttpRequest()
            request.META.update({"SERVER_NAME": "localhost", "SERVER_PORT": "80"})
            request.user = actor
            path = Path(options["pdf"])
            try:
                path.write_bytes(documents.sweep_pdf(request, actor, the_round))
            except OSError as e:
                raise CommandError(
                    _("无法写入文件 %(path)s：%(reason)s") % {"path": path, "reason": e.strerror}
                ) from e
            self.done(_("扫楼名单已写入 %(path)s") % {"path": path})
        if options["tasks"]:
            tasks = actions.sweep_tasks_create(actor=actor, round=the_round, missing=missing)
            self.done(_("已发布 %(n)d 个扫楼任务") % {"n": len(tasks)})

    def do_door_service(self, actor: User, options: Options) -> None:
        require(access.can_see_campaigns(actor), _("您的角色无权查看普查与核酸"))
        self._need_writer(actor, options)
        the_round = self._round(actor, options["round"])
        residents = list(reconcile.door_service_residents(the_round))
        reasons = reconcile.door_reasons(residents, the_round.date)
        self.table(
            [_("地址"), _("姓名"), _("原因"), "id"],
            [(r.household.address, r.name, reasons[r.pk], r.pk) for r in residents],
        )
        if options["tasks"]:
            tasks = actions.door_service_tasks_create(
                actor=actor, round=the_round, residents=residents
            )
            self.done(_("已发布 %(n)d 个上门采样任务") % {"n": len(tasks)})


def _time(text: str, flag: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            _("%(flag)s 应为时间，例：07:30（收到：%(text)s）") % {"flag": flag, "text": text}
        ) from None
