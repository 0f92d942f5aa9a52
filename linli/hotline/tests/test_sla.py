"""SLA escalation with frozen time: a critical ticket never waits unescalated past its
10 minutes, and an overdue ticket climbs community → street, one level per window."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks_db.models import DBTaskResult

from linli.hotline import actions
from linli.hotline.choices import Escalation, EventKind
from linli.hotline.models import Ticket
from linli.hotline.tasks import escalate_overdue_tickets
from linli.hotline.tests.test_actions import new_ticket
from linli.notify.models import Message
from linli.test import BaseTestCase

START = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)


def level(ticket: Ticket) -> int:
    with scopes_disabled():
        return Ticket.objects.get(pk=ticket.pk).escalation_level


class EscalationTest(BaseTestCase):
    def test_it_escalates_a_critical_ticket_to_the_community_at_ten_minutes(self) -> None:
        with time_machine.travel(START, tick=False):
            ticket = new_ticket(self)
        with time_machine.travel(START + dt.timedelta(minutes=9, seconds=59), tick=False):
            self.assertEqual(actions.tickets_escalate(timezone.now()), [])
        with time_machine.travel(START + dt.timedelta(minutes=10), tick=False):
            escalated = actions.tickets_escalate(timezone.now())
        self.assertEqual([t.pk for t in escalated], [ticket.pk])
        self.assertEqual(level(ticket), Escalation.COMMUNITY)
        with scopes_disabled():
            event = ticket.events.get(kind=EventKind.ESCALATE)
            self.assertIsNone(event.actor)
            self.assertIn("超过响应时限", event.note)
            self.assertTrue(
                Message.objects.filter(kind="ticket.escalated", to_user=self.carol).exists()
            )

    def test_it_never_leaves_a_critical_ticket_unescalated_past_ten_minutes(self) -> None:
        # Whenever the escalation runs after the deadline, every unanswered critical ticket
        # made at any minute of the hour is escalated.
        tickets = []
        for minute in range(0, 60, 7):
            with time_machine.travel(START + dt.timedelta(minutes=minute), tick=False):
                tickets.append(new_ticket(self))
        for minute in range(0, 80):
            now = START + dt.timedelta(minutes=minute)
            with time_machine.travel(now, tick=False):
                actions.tickets_escalate(now)
                with scopes_disabled():
                    waiting = Ticket.objects.filter(
                        urgency="critical",
                        status="new",
                        escalation_level=Escalation.NONE,
                        respond_by__lte=now,
                    )
                    self.assertFalse(waiting.exists(), f"unescalated at minute {minute}")
        self.assertTrue(all(level(t) >= Escalation.COMMUNITY for t in tickets))

    def test_it_climbs_to_the_street_one_window_later_and_no_further(self) -> None:
        with time_machine.travel(START, tick=False):
            ticket = new_ticket(self)
        for minutes, expected in ((10, 1), (15, 1), (20, 2), (90, 2)):
            now = START + dt.timedelta(minutes=minutes)
            with time_machine.travel(now, tick=False):
                actions.tickets_escalate(now)
            self.assertEqual(level(ticket), expected, f"at {minutes} min")
        with scopes_disabled():
            self.assertEqual(ticket.events.filter(kind=EventKind.ESCALATE).count(), 2)
            self.assertTrue(
                Message.objects.filter(kind="ticket.escalated", to_user=self.dave).exists()
            )
            self.assertIsNone(Ticket.objects.get(pk=ticket.pk).escalate_after)

    def test_it_does_not_escalate_an_accepted_ticket_before_its_resolve_deadline(self) -> None:
        with time_machine.travel(START, tick=False):
            ticket = new_ticket(self)
        with time_machine.travel(START + dt.timedelta(minutes=5), tick=False), scopes_disabled():
            actions.ticket_accept(actor=self.alice, ticket=ticket)
        with time_machine.travel(START + dt.timedelta(minutes=119), tick=False):
            actions.tickets_escalate(timezone.now())
        self.assertEqual(level(ticket), Escalation.NONE)
        with time_machine.travel(START + dt.timedelta(minutes=121), tick=False):
            actions.tickets_escalate(timezone.now())
        self.assertEqual(level(ticket), Escalation.COMMUNITY)

    def test_it_never_escalates_a_resolved_ticket(self) -> None:
        with time_machine.travel(START, tick=False):
            ticket = new_ticket(self)
            with scopes_disabled():
                actions.ticket_resolve(actor=self.alice, ticket=ticket, resolution="电话指导")
        with time_machine.travel(START + dt.timedelta(days=2), tick=False):
            self.assertEqual(actions.tickets_escalate(timezone.now()), [])

    def test_it_escalates_by_hand_with_a_reason(self) -> None:
        ticket = new_ticket(self, text="楼道堆放杂物", category="hazard", urgency="normal")
        with scopes_disabled():
            actions.ticket_escalate(actor=self.olivia, ticket=ticket, reason="物业不配合")
        self.assertEqual(level(ticket), Escalation.COMMUNITY)

    def test_it_runs_as_a_background_task(self) -> None:
        with time_machine.travel(START, tick=False):
            ticket = new_ticket(self)
        with time_machine.travel(START + dt.timedelta(minutes=11), tick=False):
            result = escalate_overdue_tickets.enqueue()
        self.assertEqual(result.return_value, 1)
        self.assertEqual(level(ticket), Escalation.COMMUNITY)

    @override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    )
    def test_it_queues_the_task_for_the_deadline_on_a_deferring_backend(self) -> None:
        with time_machine.travel(START, tick=False):
            ticket = new_ticket(self)
        queued = DBTaskResult.objects.filter(task_path__endswith="escalate_overdue_tickets")
        self.assertEqual(
            [r.run_after for r in queued], [ticket.respond_by + dt.timedelta(seconds=1)]
        )

    def test_it_runs_from_the_command_line_for_cron(self) -> None:
        with time_machine.travel(START, tick=False):
            ticket = new_ticket(self)
        out = StringIO()
        with time_machine.travel(START + dt.timedelta(minutes=11), tick=False):
            call_command("hotline", "escalate", stdout=out)
        self.assertIn("1", out.getvalue())
        self.assertEqual(level(ticket), Escalation.COMMUNITY)
