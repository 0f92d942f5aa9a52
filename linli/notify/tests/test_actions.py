"""Sending: every message is logged, the console backend masks numbers in the log, and a
gateway failure is recorded rather than raised."""

from __future__ import annotations

from django.test import override_settings

from linli.notify.actions import message_send
from linli.notify.choices import MessageStatus
from linli.notify.models import Message
from linli.test import BaseTestCase


class MessageSendTest(BaseTestCase):
    def test_it_logs_the_message_and_writes_only_a_masked_number(self) -> None:
        with self.assertLogs("linli.notify", level="INFO") as logs:
            message = message_send(
                kind="test", body="测试消息", to_phone="13812348000", actor=self.carol
            )
        self.assertEqual(message.status, MessageStatus.SENT)
        self.assertEqual(message.backend, "linli.notify.backends.ConsoleBackend")
        output = "\n".join(logs.output)
        self.assertIn("138****8000", output)
        self.assertNotIn("13812348000", output)
        stored = Message._base_manager.values_list("to_phone", flat=True).get(pk=message.pk)
        self.assertEqual(stored, "13812348000")  # decrypted by the field on read

    @override_settings(LINLI_NOTIFY_BACKEND="linli.notify.backends.FailingBackend")
    def test_it_records_a_failed_send(self) -> None:
        message = message_send(kind="test", body="测试", to_user=self.rita_user)
        self.assertEqual(Message._base_manager.get(pk=message.pk).status, MessageStatus.FAILED)

    def test_it_needs_someone_to_send_to(self) -> None:
        with self.assertRaises(ValueError):
            message_send(kind="test", body="无人")
        self.assertFalse(Message._base_manager.exists())
