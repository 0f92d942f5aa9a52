"""`linli tickets …` and `linli hotline …`."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from linli.hotline.models import SlaTarget, Ticket
from linli.hotline.tests.test_actions import new_ticket
from linli.test import BaseTestCase


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


class TicketsCommandTest(BaseTestCase):
    def test_it_creates_and_walks_a_ticket(self) -> None:
        out = run(
            "tickets", "create", "--actor", "olivia", "--resident", str(self.zhang.pk),
            "--text", "我母亲92岁了，心绞痛发作",
        )  # fmt: skip
        self.assertIn("危急", out)
        self.assertIn("心绞痛", out)
        with scopes_disabled():
            ticket = Ticket.objects.get()
        self.assertIn(ticket.number, run("tickets", "list", "--actor", "alice"))
        run("tickets", "accept", str(ticket.pk), "--actor", "alice")
        run("tickets", "resolve", str(ticket.pk), "--actor", "alice", "--resolution", "已送医")
        run("tickets", "close", str(ticket.pk), "--actor", "olivia", "--feedback", "satisfied")
        shown = run("tickets", "show", str(ticket.pk), "--actor", "olivia")
        self.assertIn("已关闭", shown)
        self.assertNotIn("13812348000", shown)

    def test_it_refuses_outside_the_area_and_field_roles(self) -> None:
        other = new_ticket(self, resident=self.li)
        with self.assertRaisesMessage(CommandError, "未找到"):
            run("tickets", "show", str(other.pk), "--actor", "alice")
        with self.assertRaisesMessage(CommandError, "无权"):
            run("tickets", "list", "--actor", "victor")
        with self.assertRaisesMessage(CommandError, "办理结果"):
            run("tickets", "resolve", str(other.pk), "--actor", "bob", "--resolution", " ")

    def test_it_escalates_by_hand(self) -> None:
        ticket = new_ticket(self)
        run("tickets", "escalate", str(ticket.pk), "--actor", "olivia", "--reason", "家属催")
        with scopes_disabled():
            self.assertEqual(Ticket.objects.get(pk=ticket.pk).escalation_level, 1)


class HotlineCommandTest(BaseTestCase):
    def test_it_shows_and_sets_sla_targets(self) -> None:
        out = run("hotline", "sla", "--community", "yangguang")
        self.assertIn("10分钟", out)
        with self.assertRaisesMessage(CommandError, "只有社区工作人员"):
            run("hotline", "sla-set", "--actor", "olivia", "--category", "medical",
                "--urgency", "critical", "--respond", "5", "--resolve", "60")  # fmt: skip
        run("hotline", "sla-set", "--actor", "carol", "--category", "medical",
            "--urgency", "critical", "--respond", "5", "--resolve", "60")  # fmt: skip
        with scopes_disabled():
            target = SlaTarget.objects.get(category="medical", urgency="critical")
        self.assertEqual(target.respond_minutes, 5)
