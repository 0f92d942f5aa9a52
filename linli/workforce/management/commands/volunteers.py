"""`linli volunteers list|show|verify|reject|suspend|poster`: volunteers from the command line."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import CommandError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    community_for,
    format_fields,
    require,
    when,
)
from linli.lib.pdf import render_pdf
from linli.lib.qr import qr_svg
from linli.workforce import access, actions
from linli.workforce.choices import TaskStatus, VolunteerStatus, availability_choices
from linli.workforce.models import Volunteer


class Command(SubcommandCommand):
    help = "志愿者：列表、详情、审核通过/不通过/暂停、打印报名海报。手机号和身份证号只显示脱敏值。"

    def add_subcommands(self) -> None:
        listing = self.subcommand("list", _("列出志愿者"), write=False)
        listing.add_argument("--community", help=_("社区编码"))
        listing.add_argument("--status", choices=VolunteerStatus.values, help=_("审核状态"))

        show = self.subcommand("show", _("查看一位志愿者"), write=False)
        show.add_argument("id", help=_("志愿者 id"))

        verify = self.subcommand("verify", _("审核通过（账号随之启用）"), write=True)
        verify.add_argument("id", help=_("志愿者 id"))
        for name, label in (("reject", _("审核不通过")), ("suspend", _("暂停（账号随之停用）"))):
            parser = self.subcommand(name, label, write=True)
            parser.add_argument("id", help=_("志愿者 id"))
            parser.add_argument("--reason", required=True, help=_("原因"))

        poster = self.subcommand("poster", _("生成报名二维码海报（PDF）"), write=False)
        poster.add_argument("community", help=_("社区编码"))
        poster.add_argument("out", help=_("要写入的 .pdf 文件"))
        poster.add_argument(
            "--url-base", required=True, help=_("网站地址，例：https://linli.example.org")
        )

    def do_list(self, actor: User, options: Options) -> None:
        volunteers = access.visible_volunteers(actor)
        if options["community"]:
            volunteers = volunteers.filter(community__code=options["community"])
        if options["status"]:
            volunteers = volunteers.filter(status=options["status"])
        rows = [
            (
                v.pk,
                v.name,
                v.masked_phone,
                v.get_status_display(),
                "、".join(v.skill_labels),
                _("是") if v.is_party_member else "",
                v.work_unit,
                when(v.last_negative_test_at, "m-d H:i"),
                v.community.name,
            )
            for v in volunteers
        ]
        headers = (
            "ID",
            _("姓名"),
            _("手机号"),
            _("状态"),
            _("技能"),
            _("党员"),
            _("工作单位"),
            _("最近核酸"),
            _("社区"),
        )
        self.table(headers, rows)
        self.stdout.write(_("共 %(n)d 人") % {"n": len(rows)})

    def do_show(self, actor: User, options: Options) -> None:
        volunteer = access.get_volunteer_for(actor, options["id"])
        slots = dict(availability_choices())
        done = volunteer.tasks.filter(status=TaskStatus.DONE)
        minutes = sum(done.values_list("minutes", flat=True))
        reasons = volunteer.ineligibility()
        self.stdout.write(
            format_fields(
                [
                    ("ID", volunteer.pk),
                    (_("姓名"), volunteer.name),
                    (_("账号"), volunteer.user.username),
                    (_("社区"), volunteer.community.name),
                    (_("居住"), volunteer.building or volunteer.compound or ""),
                    (_("手机号"), volunteer.masked_phone),
                    (_("身份证号"), volunteer.masked_id_number),
                    (_("状态"), volunteer.get_status_display()),
                    (_("审核说明"), volunteer.status_reason),
                    (_("技能"), "、".join(volunteer.skill_labels)),
                    (_("可服务时段"), "、".join(slots[s] for s in volunteer.availability)),
                    (_("党员"), _("是") if volunteer.is_party_member else _("否")),
                    (_("工作单位"), volunteer.work_unit),
                    (_("最近核酸"), when(volunteer.last_negative_test_at)),
                    (_("报名时间"), when(volunteer.created_at)),
                    (_("可接任务"), _("是") if not reasons else "；".join(reasons)),
                    (
                        _("已完成任务"),
                        _("%(n)d 个，%(h).1f 小时") % {"n": done.count(), "h": minutes / 60},
                    ),
                ]
            )
        )

    def _review(self, actor: User, options: Options, status: str) -> Volunteer:
        require(access.can_manage_volunteers(actor), _("您的角色无权审核志愿者"))
        volunteer = access.get_volunteer_for(actor, options["id"])
        return actions.volunteer_review(
            actor=actor, volunteer=volunteer, status=status, reason=options.get("reason") or ""
        )

    def do_verify(self, actor: User, options: Options) -> None:
        volunteer = self._review(actor, options, VolunteerStatus.VERIFIED)
        self.done(
            _("%(name)s 已审核通过，账号 %(username)s 已启用。")
            % {"name": volunteer.name, "username": volunteer.user.username}
        )

    def do_reject(self, actor: User, options: Options) -> None:
        volunteer = self._review(actor, options, VolunteerStatus.REJECTED)
        self.done(_("%(name)s 审核未通过。") % {"name": volunteer.name})

    def do_suspend(self, actor: User, options: Options) -> None:
        volunteer = self._review(actor, options, VolunteerStatus.SUSPENDED)
        self.done(_("%(name)s 已暂停，账号已停用。") % {"name": volunteer.name})

    def do_poster(self, actor: User, options: Options) -> None:
        require(access.can_manage_volunteers(actor), _("您的角色无权打印报名海报"))
        community = community_for(actor, options["community"])
        base = urlsplit(options["url_base"])
        if base.scheme not in ("http", "https") or not base.netloc:
            raise CommandError(_("--url-base 应为网站地址，例：https://linli.example.org"))
        request = _SiteRequest(base.scheme, base.netloc, actor)
        url = request.build_absolute_uri(reverse("workforce:signup", args=[community.code]))
        pdf = render_pdf(
            request,
            "workforce/poster.html",
            {"community": community, "url": url, "qr": qr_svg(url, scale=10)},
        )
        path = Path(options["out"])
        try:
            path.write_bytes(pdf)
        except OSError as e:
            raise CommandError(
                _("无法写入文件 %(path)s：%(reason)s") % {"path": path, "reason": e.strerror}
            ) from e
        self.done(
            _("已生成%(community)s志愿者招募海报：%(path)s（二维码指向 %(url)s）")
            % {"community": community.name, "path": path, "url": url}
        )


class _SiteRequest(HttpRequest):
    """A request as if made to the site at --url-base, so the poster's QR code and links
    name the address residents will open (the same template the poster page renders)."""

    def __init__(self, scheme: str, host: str, user: User) -> None:
        super().__init__()
        self._site_scheme = scheme
        self._site_host = host
        self.user = user
        self.META["HTTP_HOST"] = host

    def _get_scheme(self) -> str:
        return self._site_scheme

    def get_host(self) -> str:
        return self._site_host
