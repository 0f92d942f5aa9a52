"""Tickets through their life: triage on entry, default owner, transitions, timeline."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_scopes import scopes_disabled

from linli.hotline import actions
from linli.hotline.actions import TicketInput
from linli.hotline.choices import Channel, EventKind, Feedback, TicketStatus
from linli.hotline.models import Ticket, TicketEvent
from linli.notify.models import Message
from linli.test import BaseTestCase
from linli.workforce.choices import TaskKind, TaskStatus


def new_ticket(
    test: BaseTestCase, text: str = "我母亲92岁了，心绞痛发作", **kwargs: object
) -> Ticket:
    values: dict[str, object] = {
        "community": test.community,
        "channel": Channel.PHONE,
        "description": text,
        "resident": test.zhang,
    }
    values.update(kwargs)
    with scopes_disabled():
        return actions.ticket_create(test.olivia, TicketInput(**values))  # type: ignore[arg-type]


class TicketCreateTest(BaseTestCase):
    def test_it_triages_the_text_and_shows_the_trigger_word(self) -> None:
        ticket = new_ticket(self)
        self.assertEqual((ticket.category, ticket.urgency), ("medical", "critical"))
        self.assertIn("心绞痛", ticket.triage_reasons)
        self.assertFalse(ticket.overridden)

    def test_it_gives_the_ticket_to_the_grid_worker_of_the_household(self) -> None:
        ticket = new_ticket(self)
        self.assertEqual(ticket.owner, self.alice)
        self.assertEqual(ticket.household, self.zhang.household)
        self.assertEqual(ticket.grid, self.grid1)
        self.assertTrue(ticket.on_behalf)

    def test_it_gives_a_ticket_outside_any_grid_to_community_staff(self) -> None:
        ticket = new_ticket(self, resident=self.wang)
        self.assertEqual(ticket.owner, self.carol)

    def test_it_alerts_community_staff_of_a_critical_ticket(self) -> None:
        new_ticket(self)
        with scopes_disabled():
            self.assertTrue(
                Message.objects.filter(kind="ticket.alert", to_user=self.carol).exists()
            )
            self.assertTrue(
                Message.objects.filter(kind="ticket.assigned", to_user=self.alice).exists()
            )

    def test_it_does_not_alert_staff_of_a_normal_ticket(self) -> None:
        new_ticket(self, text="楼道灯坏了，麻烦来修一下", category="repair", urgency="normal")
        with scopes_disabled():
            self.assertFalse(Message.objects.filter(kind="ticket.alert").exists())

    def test_it_records_an_override_of_triage(self) -> None:
        ticket = new_ticket(self, category="medical", urgency="urgent")
        self.assertTrue(ticket.overridden)
        self.assertEqual(ticket.triage_urgency, "critical")
        with scopes_disabled():
            kinds = list(ticket.events.values_list("kind", flat=True))
        self.assertIn(EventKind.OVERRIDE, kinds)

    def test_it_sets_the_deadlines_from_the_sla_targets(self) -> None:
        ticket = new_ticket(self)
        self.assertEqual(ticket.respond_by - ticket.created_at, dt.timedelta(minutes=10))
        self.assertEqual(ticket.resolve_by - ticket.created_at, dt.timedelta(hours=2))
        self.assertEqual(ticket.escalate_after, ticket.respond_by)

    def test_it_keeps_an_unknown_callers_number_encrypted_with_its_tail(self) -> None:
        ticket = new_ticket(
            self,
            resident=None,
            caller_phone="138-0013-8000",
            caller_name="路人",
            text="小区门口有电线掉落",
        )
        self.assertEqual(ticket.caller_phone_last4, "8000")
        self.assertEqual(ticket.masked_caller_phone, "138****8000")
        self.assertIsNone(ticket.household)
        with connection.cursor() as cursor:
            cursor.execute("SELECT caller_phone FROM hotline_ticket WHERE id = %s", [ticket.pk])
            raw = cursor.fetchone()[0]
        self.assertNotIn("13800138000", raw)

    def test_it_refuses_an_empty_description_naming_the_field(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            new_ticket(self, text="  ")
        self.assertIn("description", caught.exception.message_dict)
        with scopes_disabled():
            self.assertFalse(Ticket.objects.exists())

    def test_it_refuses_a_household_of_another_community(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            new_ticket(self, resident=self.zhao)
        self.assertIn("household", caught.exception.message_dict)

    def test_it_refuses_an_owner_who_does_not_cover_the_grid(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            new_ticket(self, owner=self.bob)
        self.assertIn("owner", caught.exception.message_dict)


class TicketTransitionTest(BaseTestCase):
    def test_it_goes_from_new_to_closed_with_feedback_and_a_timeline(self) -> None:
        ticket = new_ticket(self)
        with scopes_disabled():
            ticket = actions.ticket_accept(actor=self.alice, ticket=ticket)
            ticket = actions.ticket_start(actor=self.alice, ticket=ticket)
            ticket = actions.ticket_resolve(
                actor=self.alice, ticket=ticket, resolution="已送医，家属陪同"
            )
            ticket = actions.ticket_close(
                actor=self.olivia, ticket=ticket, feedback=Feedback.SATISFIED, feedback_text="谢谢"
            )
            statuses = list(
                TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS).values_list(
                    "to_status", flat=True
                )
            )
        self.assertEqual(ticket.status, TicketStatus.CLOSED)
        self.assertEqual(ticket.feedback, Feedback.SATISFIED)
        self.assertIsNotNone(ticket.accepted_at)
        self.assertIsNone(ticket.escalate_after)
        self.assertEqual(statuses, ["accepted", "in_progress", "resolved", "closed"])

    def test_it_refuses_to_close_an_unresolved_ticket(self) -> None:
        ticket = new_ticket(self)
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.ticket_close(actor=self.olivia, ticket=ticket, feedback=Feedback.SATISFIED)
        self.assertIn("status", caught.exception.message_dict)

    def test_it_refuses_a_stale_status(self) -> None:
        ticket = new_ticket(self)
        with scopes_disabled():
            stale = Ticket.objects.get(pk=ticket.pk)
            actions.ticket_accept(actor=self.alice, ticket=ticket)
            with self.assertRaises(ValidationError):
                actions.ticket_accept(actor=self.carol, ticket=stale)
            self.assertEqual(
                TicketEvent.objects.filter(ticket=ticket, to_status="accepted").count(), 1
            )

    def test_it_needs_a_reason_to_cancel(self) -> None:
        ticket = new_ticket(self)
        with scopes_disabled():
            with self.assertRaises(ValidationError):
                actions.ticket_cancel(actor=self.olivia, ticket=ticket, reason="")
            ticket = actions.ticket_cancel(actor=self.olivia, ticket=ticket, reason="重复来电")
        self.assertEqual(ticket.status, TicketStatus.CANCELLED)
        self.assertEqual(ticket.cancel_reason, "重复来电")

    def test_it_reopens_a_resolved_ticket_the_resident_is_unhappy_with(self) -> None:
        ticket = new_ticket(self)
        with scopes_disabled():
            actions.ticket_resolve(actor=self.alice, ticket=ticket, resolution="已处理")
            ticket = actions.ticket_reopen(actor=self.olivia, ticket=ticket, reason="药没送到")
        self.assertEqual(ticket.status, TicketStatus.IN_PROGRESS)
        self.assertIsNone(ticket.resolved_at)

    def test_it_reassigns_and_tells_the_new_owner(self) -> None:
        ticket = new_ticket(self)
        with scopes_disabled():
            ticket = actions.ticket_assign(actor=self.olivia, ticket=ticket, owner=self.carol)
            self.assertEqual(ticket.owner, self.carol)
            self.assertTrue(
                Message.objects.filter(kind="ticket.assigned", to_user=self.carol).exists()
            )
            with self.assertRaises(ValidationError):
                actions.ticket_assign(actor=self.olivia, ticket=ticket, owner=self.victor)

    def test_it_moves_the_deadlines_when_urgency_is_overridden(self) -> None:
        ticket = new_ticket(self)
        with scopes_disabled():
            ticket = actions.ticket_reclassify(
                actor=self.olivia, ticket=ticket, category="medicine", urgency="normal"
            )
        self.assertEqual(ticket.respond_by - ticket.created_at, dt.timedelta(hours=2))
        self.assertTrue(ticket.overridden)

    def test_it_keeps_attachments_with_an_event(self) -> None:
        ticket = new_ticket(self)
        upload = SimpleUploadedFile("处方.jpg", b"\xff\xd8\xff fake", content_type="image/jpeg")
        with scopes_disabled():
            attachment = actions.ticket_attach(actor=self.olivia, ticket=ticket, upload=upload)
            self.assertEqual(attachment.name, "处方.jpg")
            self.assertTrue(ticket.events.filter(kind=EventKind.ATTACHMENT).exists())


class ErrandTest(BaseTestCase):
    def test_it_turns_a_medicine_ticket_into_an_errand_task_in_one_step(self) -> None:
        ticket = new_ticket(
            self, text="帮我去医院配降压药，家里断药了", category="medicine", urgency="urgent"
        )
        with scopes_disabled():
            task = actions.ticket_to_task(actor=self.olivia, ticket=ticket)
            ticket.refresh_from_db()
        self.assertEqual(task.kind, TaskKind.ERRAND)
        self.assertEqual(task.status, TaskStatus.OPEN)
        self.assertEqual(task.place, self.zhang.household.address)
        self.assertEqual(ticket.task, task)
        self.assertEqual(ticket.status, TicketStatus.IN_PROGRESS)

    def test_it_refuses_to_turn_a_medical_visit_into_an_errand(self) -> None:
        ticket = new_ticket(self)
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.ticket_to_task(actor=self.olivia, ticket=ticket)
        self.assertIn("category", caught.exception.message_dict)

    def test_it_refuses_a_second_task_for_the_same_ticket(self) -> None:
        ticket = new_ticket(self, text="买菜", category="supplies", urgency="normal")
        with scopes_disabled():
            actions.ticket_to_task(actor=self.olivia, ticket=ticket)
            with self.assertRaises(ValidationError):
                actions.ticket_to_task(actor=self.olivia, ticket=ticket)


class RegisterUrgencyTest(BaseTestCase):
    def test_it_raises_a_register_residents_request_one_step_and_says_why(self) -> None:
        # 张建国 lives alone (独居老人): a broken light is more pressing for him.
        his = new_ticket(self, text="楼道灯坏了")
        self.assertEqual((his.category, his.urgency), ("repair", "urgent"))
        self.assertEqual(his.triage_urgency, "urgent")
        self.assertIn("重点人群：独居老人", his.triage_reasons)
        self.assertFalse(his.overridden)
        # 曾小明 is on no register: the same words stay 一般.
        theirs = new_ticket(self, text="楼道灯坏了", resident=self.zeng)
        self.assertEqual(theirs.urgency, "normal")
        self.assertNotIn("重点人群：独居老人", theirs.triage_reasons)
        # A household call counts whoever lives there; an operator's choice still wins.
        household = new_ticket(
            self, text="楼道灯坏了", resident=None, household=self.zhang.household
        )
        self.assertEqual(household.urgency, "urgent")
        chosen = new_ticket(self, text="楼道灯坏了", urgency="normal")
        self.assertEqual(chosen.urgency, "normal")
        self.assertTrue(chosen.overridden)
