"""`linli documents …`: a round's pick lists, manifests and door labels from the command line
(which ones the actor may have, and one made as PDF or Excel into a file)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import Options, SubcommandCommand, when
from linli.supply import documents
from linli.supply.documents import Fmt, Kind


class Command(SubcommandCommand):
    help = "保供单据：拣货单（按保供单位）、卡口分拣清单（按卡口）、门贴标签，生成 PDF 或 Excel。"

    def add_subcommands(self) -> None:
        listing = self.subcommand("list", _("列出某轮次您可生成的单据和已生成的单据"), write=False)
        listing.add_argument("round", help=_("轮次 id"))

        make = self.subcommand("make", _("生成一份单据到文件"), write=False)
        make.add_argument("round", help=_("轮次 id"))
        make.add_argument("--kind", required=True, choices=Kind.values)
        make.add_argument("--fmt", required=True, choices=Fmt.values)
        whose = make.add_mutually_exclusive_group(required=True)
        whose.add_argument("--supplier", help=_("保供单位 id（拣货单、门贴标签）"))
        whose.add_argument(
            "--checkpoint",
            help=_("卡口 id（分拣清单），或 %(u)s 表示未分配卡口的住户")
            % {"u": documents.UNASSIGNED},
        )
        make.add_argument("--out", required=True, help=_("输出文件"))
        make.add_argument(
            "--url-base",
            default="http://localhost:8000",
            help=_("网站地址，标签二维码指向 <网站地址>/orders/<订单号>/status"),
        )

    def do_list(self, actor: User, options: Options) -> None:
        round = documents.get_round_for_documents(actor, options["round"])
        allowed = documents.allowed_keys(actor, round)
        self.table(
            (_("类型"), _("参数"), _("名称")),
            [
                (
                    Kind(kind).label,
                    f"--{'checkpoint' if kind == Kind.MANIFEST else 'supplier'} {key}",
                    name,
                )
                for kind, keys in allowed.items()
                for key, name in keys
            ],
        )
        made = documents.visible_documents(actor, round)
        if made:
            self.stdout.write("")
            self.table(
                ("ID", _("单据"), _("格式"), _("状态"), _("进度"), _("生成时间")),
                [
                    (d.pk, title, d.fmt, d.status_label, f"{d.progress}%", when(d.created_at))
                    for d, title in made
                ],
            )

    def do_make(self, actor: User, options: Options) -> None:
        round = documents.get_round_for_documents(actor, options["round"])
        kind: str = options["kind"]
        key = options["checkpoint"] if kind == Kind.MANIFEST else options["supplier"]
        if key is None:
            option = "--checkpoint" if kind == Kind.MANIFEST else "--supplier"
            raise CommandError(_("%(kind)s 需要 %(option)s") % {"kind": kind, "option": option})
        if round.status not in documents.DOCUMENT_STATUSES:
            raise CommandError(_("轮次尚未分配，分配后才能生成单据"))
        documents.check_may_see(actor, round, kind, key)
        base = urlsplit(options["url_base"])
        if base.scheme not in ("http", "https") or not base.netloc:
            raise CommandError(_("--url-base 应为网站地址，例：https://linli.example.org"))
        document = documents.build(round, kind, key)
        content = documents.render(document, options["fmt"], f"{base.scheme}://{base.netloc}")
        path = Path(options["out"])
        try:
            path.write_bytes(content)
        except OSError as e:
            raise CommandError(
                _("无法写入文件 %(path)s：%(reason)s") % {"path": path, "reason": e.strerror}
            ) from e
        self.done(
            _("已生成%(title)s（%(n)d 户）：%(path)s")
            % {"title": document.title, "n": document.orders, "path": path}
        )
