"""`linli passes …`: issue, list, show, revoke and verify medical exit passes."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    format_fields,
    parse_time,
    positive_int,
    require,
    when,
)
from linli.hotline.access import get_ticket_for
from linli.passes import access, actions
from linli.passes.choices import PassReason, PassStatus, VerifyResult, VerifyVia
from linli.passes.models import MedicalPass
from linli.registry.access import get_resident_for


class Command(SubcommandCommand):
    help = "外出就医证明：开具、列表、查看、作废、核验。"

    def add_subcommands(self) -> None:
        issue = self.subcommand("issue", _("开具证明"), write=True)
        issue.add_argument("--resident", required=True, help=_("居民 id"))
        issue.add_argument("--reason", required=True, choices=PassReason.values)
        issue.add_argument("--destination", required=True, help=_("前往的医院或地点"))
        issue.add_argument("--from", dest="valid_from", help=_("有效期自（默认现在）"))
        issue.add_argument("--until", dest="valid_until", help=_("有效期至（默认24小时后）"))
        issue.add_argument("--companion", default="", help=_("陪同人姓名"))
        issue.add_argument("--companion-phone", default="")
        issue.add_argument("--note", default="")
        issue.add_argument("--ticket", help=_("工单 id"))

        listing = self.subcommand("list", _("列出证明"), write=False)
        listing.add_argument("--status", choices=PassStatus.values)
        listing.add_argument("--limit", type=positive_int, default=100)

        show = self.subcommand("show", _("查看证明"), write=False)
        show.add_argument("id")

        revoke = self.subcommand("revoke", _("作废证明"), write=True)
        revoke.add_argument("id")
        revoke.add_argument("--reason", required=True)

        verify = self.subcommand("verify", _("核验编码（记入核验记录）"), write=True)
        verify.add_argument("code", help=_("证明编码，或 --qr 时为二维码内容"))
        verify.add_argument("--qr", action="store_true", help=_("给出的是二维码内容"))

    def _pass(self, actor: User, pk: str) -> MedicalPass:
        require(access.can_issue(actor), _("您的角色无权查看证明"))
        return access.get_pass_for(actor, pk)

    def do_issue(self, actor: User, options: Options) -> None:
        require(access.can_issue(actor), _("您的角色无权开具外出就医证明"))
        resident = get_resident_for(actor, options["resident"])
        now = timezone.now().replace(second=0, microsecond=0)
        start = parse_time(options["valid_from"], "--from") if options["valid_from"] else now
        end = (
            parse_time(options["valid_until"], "--until")
            if options["valid_until"]
            else start + dt.timedelta(hours=24)
        )
        ticket = get_ticket_for(actor, options["ticket"]) if options["ticket"] else None
        issued = actions.pass_issue(
            actor=actor,
            data=actions.PassInput(
                resident=resident,
                reason=options["reason"],
                destination=options["destination"],
                valid_from=start,
                valid_until=end,
                companion_name=options["companion"],
                companion_phone=options["companion_phone"],
                note=options["note"],
                ticket=ticket,
            ),
        )
        self.done(_("已开具证明 %(id)d，编码 %(code)s") % {"id": issued.pk, "code": issued.code})

    def do_list(self, actor: User, options: Options) -> None:
        require(access.can_issue(actor), _("您的角色无权查看证明"))
        passes = access.visible_passes(actor)
        if options["status"]:
            passes = passes.filter(status=options["status"])
        now = timezone.now()
        self.table(
            ["id", _("编码"), _("居民"), _("事由"), _("前往"), _("有效期至"), _("此刻")],
            [
                [
                    p.pk,
                    p.code,
                    p.masked_name,
                    p.get_reason_display(),
                    p.destination,
                    when(p.valid_until),
                    VerifyResult(p.state_at(now)).label,
                ]
                for p in passes[: options["limit"]]
            ],
        )

    def do_show(self, actor: User, options: Options) -> None:
        p = self._pass(actor, options["id"])
        self.stdout.write(
            format_fields(
                [
                    ("id", p.pk),
                    (_("编码"), p.code),
                    (_("居民"), p.masked_name),
                    (_("事由"), p.get_reason_display()),
                    (_("前往"), p.destination),
                    (_("陪同人"), p.masked_companion),
                    (_("有效期"), f"{when(p.valid_from)} – {when(p.valid_until)}"),
                    (_("状态"), p.get_status_display()),
                    (_("此刻"), VerifyResult(p.state_at(timezone.now())).label),
                    (_("开具"), f"{p.issued_by} {when(p.issued_at)}"),
                    (
                        _("作废"),
                        f"{p.revoked_by} {when(p.revoked_at)} {p.revoke_reason}"
                        if p.revoked_at
                        else "",
                    ),
                    (_("二维码内容"), p.qr_payload),
                ]
            )
        )

    def do_revoke(self, actor: User, options: Options) -> None:
        p = self._pass(actor, options["id"])
        actions.pass_revoke(actor=actor, medical_pass=p, reason=options["reason"])
        self.done(_("证明 %(code)s 已作废") % {"code": p.code})

    def do_verify(self, actor: User, options: Options) -> None:
        via = VerifyVia.QR if options["qr"] else VerifyVia.CODE
        found = actions.pass_verify(actor=actor, presented=options["code"], via=via)
        label = str(VerifyResult(found.result).label)
        p = found.medical_pass
        lines = [(_("结果"), label)]
        if p is not None:
            lines += [
                (_("居民"), p.masked_name),
                (_("前往"), p.destination),
                (_("有效期"), f"{when(p.valid_from)} – {when(p.valid_until)}"),
            ]
        self.stdout.write(format_fields(lines))
        if not found.is_valid:
            raise CommandError(label)
