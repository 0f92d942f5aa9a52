"""The messages command: the log with phones masked, and a test message through the backend."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django_scopes import scopes_disabled

from linli.notify.choices import MessageStatus
from linli.notify.models import Message
from linli.test import BaseTestCase


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


class MessageCommandTests(BaseTestCase):
    def test_it_sends_a_test_message_and_logs_it(self) -> None:
        text = run(
            "messages", "send", "--phone", "13812345678", "--body", "测试", "--actor", "carol"
        )
        self.assertIn("138****5678", text)
        self.assertNotIn("13812345678", text)
        with scopes_disabled():
            message = Message.objects.get()
        self.assertEqual(message.to_phone, "13812345678")
        self.assertEqual(message.sent_by, self.carol)
        self.assertEqual(message.community_id, self.community.pk)
        self.assertEqual(message.status, MessageStatus.SENT)
        log = run("messages", "list", "--actor", "carol")
        self.assertIn("138****5678", log)
        self.assertIn("notify.test", log)
        self.assertNotIn("13812345678", log)

    @override_settings(LINLI_NOTIFY_BACKEND="linli.notify.backends.FailingBackend")
    def test_it_exits_with_the_reason_when_the_gateway_fails(self) -> None:
        with self.assertRaisesMessage(CommandError, "发送失败"):
            run("messages", "send", "--phone", "13812345678", "--body", "测试", "--actor", "carol")
        with scopes_disabled():
            self.assertEqual(Message.objects.get().status, MessageStatus.FAILED)

    def test_it_refuses_a_bad_number_and_other_roles(self) -> None:
        with self.assertRaises(CommandError):
            run("messages", "send", "--phone", "12345", "--body", "测试", "--actor", "carol")
        with self.assertRaisesMessage(CommandError, "只有社区工作人员"):
            run("messages", "send", "--phone", "13812345678", "--body", "x", "--actor", "kate")
        with self.assertRaisesMessage(CommandError, "只有社区工作人员"):
            run("messages", "list", "--actor", "alice")
        with self.assertRaisesMessage(CommandError, "--actor"):
            run("messages", "send", "--phone", "13812345678", "--body", "x")
        with scopes_disabled():
            self.assertFalse(Message.objects.exists())

    def test_it_shows_a_community_only_its_messages(self) -> None:
        run("messages", "send", "--phone", "13812345678", "--body", "阳光", "--actor", "carol")
        self.assertIn("阳光", run("messages", "list", "--actor", "dave"))
        self.assertIn("阳光", run("messages", "list"))
