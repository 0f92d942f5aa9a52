"""`linli messages list|send`: the log of messages sent (phones masked), and a test message
through the configured backend."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import (
    Options,
    SubcommandCommand,
    only_community_id,
    positive_int,
    require,
    when,
)
from linli.lib.identity import check_mobile
from linli.notify.access import can_read_message_log
from linli.notify.actions import message_send
from linli.notify.choices import Channel, MessageStatus
from linli.notify.models import Message


class Command(SubcommandCommand):
    help = "消息：查看发送记录（手机号脱敏），或经当前配置的通道发一条测试消息。"

    def add_subcommands(self) -> None:
        listing = self.subcommand("list", _("消息发送记录（最新在前）"), write=False)
        listing.add_argument("--kind", help=_("消息类型，例：task.left_at_door"))
        listing.add_argument("--limit", type=positive_int, default=50)

        send = self.subcommand("send", _("发一条测试消息"), write=True)
        send.add_argument("--phone", required=True, help=_("收件手机号"))
        send.add_argument("--body", required=True, help=_("内容"))
        send.add_argument("--channel", choices=Channel.values, default=Channel.SMS)

    def do_list(self, actor: User, options: Options) -> None:
        require(can_read_message_log(actor), _("只有社区工作人员和街道管理员可以查看消息记录"))
        messages = Message.objects.select_related("to_user").order_by("-created_at", "-pk")
        if options["kind"]:
            messages = messages.filter(kind=options["kind"])
        self.table(
            ("ID", _("时间"), _("渠道"), _("类型"), _("收件人"), _("状态"), _("内容")),
            [
                (
                    m.pk,
                    when(m.created_at, "m-d H:i"),
                    m.get_channel_display(),
                    m.kind,
                    m.masked_phone or (m.to_user or ""),
                    m.get_status_display()
                    + (f"（{m.error}）" if m.status == MessageStatus.FAILED else ""),
                    m.body if len(m.body) <= 40 else m.body[:39] + "…",
                )
                for m in messages[: options["limit"]]
            ],
        )

    def do_send(self, actor: User, options: Options) -> None:
        require(can_read_message_log(actor), _("只有社区工作人员和街道管理员可以发送测试消息"))
        checked = check_mobile(options["phone"])
        if checked.errors:
            raise CommandError("；".join(checked.errors))
        if not options["body"].strip():
            raise CommandError(_("请填写消息内容"))
        message = message_send(
            kind="notify.test",
            body=options["body"].strip(),
            to_phone=checked.value,
            channel=options["channel"],
            community_id=only_community_id(actor),
            actor=actor,
        )
        if message.status == MessageStatus.FAILED:
            raise CommandError(
                _("发送失败：%(error)s（已记入消息记录 %(id)d）")
                % {"error": message.error, "id": message.pk}
            )
        self.done(
            _("已发送到 %(phone)s（%(backend)s，消息记录 %(id)d）")
            % {"phone": message.masked_phone, "backend": message.backend, "id": message.pk}
        )
