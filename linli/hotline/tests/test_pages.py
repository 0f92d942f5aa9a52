"""The hotline's pages: queue, console, ticket steps, SLA targets, figures, the resident's
page; scoping (404 outside the area, 403 for roles that may not)."""

from __future__ import annotations

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from linli.hotline import actions
from linli.hotline.choices import Channel, TicketStatus
from linli.hotline.models import SlaTarget, Ticket, TicketAttachment
from linli.hotline.tests.test_actions import new_ticket
from linli.test import BaseTestCase


def fresh(ticket: Ticket) -> Ticket:
    with scopes_disabled():
        return Ticket.objects.get(pk=ticket.pk)


class QueueTest(BaseTestCase):
    def test_it_lists_critical_tickets_first_with_the_time_left(self) -> None:
        normal = new_ticket(self, text="楼道灯坏了", category="repair", urgency="normal")
        critical = new_ticket(self)
        self.login(self.olivia)
        response = self.client.get(reverse("hotline:queue"))
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertLess(body.index(critical.number + "<"), body.index(normal.number + "<"))
        self.assertContains(response, "剩 9分")
        self.assertContains(response, 'hx-trigger="every 30s"')

    def test_it_shows_a_grid_worker_only_their_grids_tickets(self) -> None:
        mine = new_ticket(self)
        other = new_ticket(self, resident=self.li)
        self.login(self.alice)
        body = self.client.get(reverse("hotline:queue")).content.decode()
        self.assertIn(f'href="/hotline/tickets/{mine.pk}/"', body)
        self.assertNotIn(f'href="/hotline/tickets/{other.pk}/"', body)
        self.assertEqual(
            self.client.get(reverse("hotline:ticket_detail", args=[other.pk])).status_code, 404
        )

    def test_it_refuses_field_roles_and_hides_other_communities(self) -> None:
        ticket = new_ticket(self)
        for user in (self.victor, self.kate, self.sam, self.rita_user):
            self.login(user)
            self.assertEqual(self.client.get(reverse("hotline:queue")).status_code, 403)
            self.assertEqual(
                self.client.get(reverse("hotline:ticket_detail", args=[ticket.pk])).status_code,
                403,
            )
        with scopes_disabled():
            far = actions.ticket_create(
                self.root,
                actions.TicketInput(
                    community=self.community_far, channel=Channel.PHONE, description="停水了"
                ),
            )
        self.login(self.dave)
        self.assertEqual(
            self.client.get(reverse("hotline:ticket_detail", args=[ticket.pk])).status_code, 200
        )
        self.assertEqual(
            self.client.get(reverse("hotline:ticket_detail", args=[far.pk])).status_code, 404
        )


class ConsoleTest(BaseTestCase):
    def test_it_finds_the_caller_by_phone_tail_and_shows_their_open_tickets(self) -> None:
        earlier = new_ticket(self, text="买菜", category="supplies", urgency="normal")
        self.login(self.olivia)
        response = self.client.get(reverse("hotline:lookup"), {"q": "8000"})
        self.assertContains(response, "张建国")
        self.assertNotContains(response, "13812348000")
        response = self.client.get(reverse("hotline:console"), {"resident": self.zhang.pk})
        self.assertContains(response, self.zhang.household.address)
        self.assertContains(response, earlier.number)

    def test_it_previews_triage_with_the_trigger_word(self) -> None:
        self.login(self.olivia)
        response = self.client.get(
            reverse("hotline:triage_preview"), {"description": "我母亲92岁了，心绞痛发作"}
        )
        self.assertContains(response, "危急")
        self.assertContains(response, '<span class="trigger">心绞痛</span>')

    def test_it_previews_the_register_raise_for_the_picked_caller(self) -> None:
        self.login(self.olivia)
        url = reverse("hotline:triage_preview")
        words = {"description": "楼道灯坏了"}
        self.assertContains(self.client.get(url, words), "一般")
        # 张建国 lives alone: the preview says what saving will do, and why.
        raised = self.client.get(url, {**words, "resident": str(self.zhang.pk)})
        self.assertContains(raised, "紧急")
        self.assertContains(raised, "重点人群：独居老人")
        # Someone outside the operator's community counts as no one.
        far = self.client.get(url, {**words, "resident": str(self.far.pk)})
        self.assertEqual(far.status_code, 200)
        self.assertNotContains(far, "重点人群")

    def test_it_creates_a_ticket_for_the_picked_resident(self) -> None:
        self.login(self.olivia)
        response = self.client.post(
            reverse("hotline:console") + f"?resident={self.zhang.pk}",
            {
                "community": self.community.pk,
                "resident": self.zhang.pk,
                "channel": "phone",
                "description": "我母亲92岁了，心绞痛发作",
                "category": "",
                "urgency": "",
                "owner": "",
            },
        )
        with scopes_disabled():
            ticket = Ticket.objects.get()
        self.assertRedirects(response, reverse("hotline:ticket_detail", args=[ticket.pk]))
        self.assertEqual(
            (ticket.resident, ticket.urgency, ticket.owner), (self.zhang, "critical", self.alice)
        )
        self.assertEqual(ticket.created_by, self.olivia)

    def test_it_creates_an_unknown_callers_ticket_with_an_override(self) -> None:
        self.login(self.olivia)
        response = self.client.post(
            reverse("hotline:console"),
            {
                "community": self.community.pk,
                "channel": "phone",
                "caller_phone": "13800001111",
                "caller_name": "过路人",
                "description": "小区门口电线掉落",
                "category": "hazard",
                "urgency": "urgent",
                "hazard_location": "阳光小区北门",
                "hazard_parties": "物业",
            },
        )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            ticket = Ticket.objects.get()
        self.assertEqual(ticket.category, "hazard")
        self.assertEqual(ticket.hazard_location, "阳光小区北门")
        self.assertEqual(ticket.owner, self.carol)

    def test_it_refuses_an_empty_description_with_a_400_and_writes_nothing(self) -> None:
        self.login(self.olivia)
        response = self.client.post(
            reverse("hotline:console"),
            {"community": self.community.pk, "channel": "phone", "description": ""},
        )
        self.assertEqual(response.status_code, 400)
        with scopes_disabled():
            self.assertFalse(Ticket.objects.exists())

    def test_it_does_not_let_an_operator_pick_a_resident_of_another_community(self) -> None:
        self.login(self.olivia)
        response = self.client.get(reverse("hotline:console"), {"resident": self.far.pk})
        self.assertEqual(response.status_code, 404)


class TicketStepTest(BaseTestCase):
    def test_it_takes_a_ticket_from_accept_to_closed_through_the_page(self) -> None:
        ticket = new_ticket(self)
        self.login(self.alice)

        def url(step: str) -> str:
            return reverse("hotline:ticket_step", args=[ticket.pk, step])

        self.assertEqual(self.client.post(url("accept")).status_code, 302)
        self.assertEqual(
            self.client.post(url("resolve"), {"resolve-resolution": "已送医"}).status_code, 302
        )
        self.assertEqual(
            self.client.post(
                url("close"), {"close-feedback": "satisfied", "close-feedback_text": "好"}
            ).status_code,
            302,
        )
        ticket = fresh(ticket)
        self.assertEqual(ticket.status, TicketStatus.CLOSED)
        self.assertEqual(ticket.feedback, "satisfied")

    def test_it_answers_a_refused_step_with_400_and_the_reason(self) -> None:
        ticket = new_ticket(self)
        self.login(self.alice)
        response = self.client.post(
            reverse("hotline:ticket_step", args=[ticket.pk, "resolve"]), {"resolve-resolution": ""}
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "请填写办理结果", status_code=400)
        self.assertEqual(fresh(ticket).status, TicketStatus.NEW)

    def test_it_answers_an_unknown_step_with_404(self) -> None:
        ticket = new_ticket(self)
        self.login(self.alice)
        response = self.client.post(reverse("hotline:ticket_step", args=[ticket.pk, "explode"]))
        self.assertEqual(response.status_code, 404)

    def test_it_turns_an_errand_into_a_task(self) -> None:
        ticket = new_ticket(self, text="帮忙配药", category="medicine", urgency="normal")
        self.login(self.olivia)
        self.client.post(reverse("hotline:ticket_step", args=[ticket.pk, "errand"]))
        self.assertIsNotNone(fresh(ticket).task_id)

    def test_it_serves_attachments_only_to_those_who_see_the_ticket(self) -> None:
        ticket = new_ticket(self)
        self.login(self.alice)
        upload = SimpleUploadedFile("隐患.png", b"\x89PNG fake", content_type="image/png")
        response = self.client.post(
            reverse("hotline:ticket_step", args=[ticket.pk, "attach"]), {"attach-file": upload}
        )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            attachment = TicketAttachment.objects.get()
        url = reverse("hotline:attachment", args=[attachment.pk])
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), b"\x89PNG fake")  # type: ignore[attr-defined]
        self.login(self.bob)
        self.assertEqual(self.client.get(url).status_code, 404)
        self.login(self.victor)
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_it_reveals_the_callers_number_with_a_reason(self) -> None:
        ticket = new_ticket(self, resident=None, caller_phone="13800001111", text="求助")
        self.login(self.olivia)
        page = self.client.get(reverse("hotline:ticket_detail", args=[ticket.pk]))
        self.assertNotContains(page, "13800001111")
        self.assertContains(page, "138****1111")
        url = reverse("hotline:ticket_reveal", args=[ticket.pk])
        self.assertEqual(self.client.post(url, {"reason": ""}).status_code, 400)
        self.assertContains(self.client.post(url, {"reason": "回拨"}), "13800001111")


class SlaAndFiguresTest(BaseTestCase):
    def test_it_lets_community_staff_change_a_target(self) -> None:
        self.login(self.carol)
        page = self.client.get(reverse("hotline:sla"))
        self.assertEqual(page.status_code, 200)
        with scopes_disabled():
            self.assertEqual(SlaTarget.objects.filter(community=self.community).count(), 40)
        data = {"community": self.community.code}
        with scopes_disabled():
            for t in SlaTarget.objects.filter(community=self.community):
                data[f"respond-{t.category}-{t.urgency}"] = str(t.respond_minutes)
                data[f"resolve-{t.category}-{t.urgency}"] = str(t.resolve_minutes)
        data["respond-medical-critical"] = "5"
        response = self.client.post(reverse("hotline:sla"), data)
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            target = SlaTarget.objects.get(
                community=self.community, category="medical", urgency="critical"
            )
        self.assertEqual((target.respond_minutes, target.updated_by), (5, self.carol))
        ticket = new_ticket(self)
        self.assertEqual((ticket.respond_by - ticket.created_at).total_seconds(), 300)

    def test_it_refuses_a_bad_target_and_saves_nothing(self) -> None:
        self.login(self.carol)
        self.client.get(reverse("hotline:sla"))
        data = {"community": self.community.code}
        with scopes_disabled():
            for t in SlaTarget.objects.filter(community=self.community):
                data[f"respond-{t.category}-{t.urgency}"] = str(t.respond_minutes)
                data[f"resolve-{t.category}-{t.urgency}"] = str(t.resolve_minutes)
        data["respond-repair-low"] = "3"
        data["resolve-medical-critical"] = "1"
        response = self.client.post(reverse("hotline:sla"), data)
        self.assertEqual(response.status_code, 400)
        with scopes_disabled():
            self.assertFalse(SlaTarget.objects.filter(respond_minutes=3).exists())

    def test_it_lets_an_operator_read_but_not_change_the_targets(self) -> None:
        self.login(self.olivia)
        self.assertEqual(self.client.get(reverse("hotline:sla")).status_code, 200)
        self.assertEqual(
            self.client.post(
                reverse("hotline:sla"), {"community": self.community.code}
            ).status_code,
            403,
        )

    def test_it_counts_calls_escorts_and_sla_and_exports_them(self) -> None:
        ticket = new_ticket(self)
        new_ticket(self, text="帮忙配药", category="medicine", urgency="normal")
        with scopes_disabled():
            actions.ticket_accept(actor=self.alice, ticket=ticket)
        self.login(self.carol)
        response = self.client.get(reverse("hotline:figures"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "100.0%")
        export = self.client.get(reverse("hotline:figures_export"))
        self.assertEqual(export.status_code, 200)
        book = openpyxl.load_workbook(io.BytesIO(export.content))
        rows = list(book["按类别"].values)
        self.assertIn(("就医", 1, 1, 1, 1, 0, "100.0%", "—"), rows)
        self.assertEqual(rows[-1][:3], ("合计", 2, 2))


class ResidentPageTest(BaseTestCase):
    def test_it_lets_a_resident_raise_and_follow_their_own_tickets(self) -> None:
        other = new_ticket(self)  # zhang's household, not rita's
        self.login(self.rita_user)
        response = self.client.post(reverse("hotline:mine"), {"description": "家里水管漏水"})
        self.assertRedirects(response, reverse("hotline:mine"))
        with scopes_disabled():
            ticket = Ticket.objects.get(channel="resident_page")
        self.assertEqual(ticket.resident, self.zeng)
        self.assertFalse(ticket.on_behalf)
        page = self.client.get(reverse("hotline:mine"))
        self.assertContains(page, "家里水管漏水")
        self.assertNotContains(page, other.description)
        response = self.client.post(reverse("hotline:ticket_step", args=[other.pk, "close"]))
        self.assertEqual(response.status_code, 404)

    def test_it_lets_a_resident_close_their_resolved_ticket_with_feedback(self) -> None:
        ticket = new_ticket(self, resident=self.zeng, text="楼道灯坏了")
        with scopes_disabled():
            actions.ticket_resolve(actor=self.alice, ticket=ticket, resolution="已换灯")
        self.login(self.rita_user)
        self.client.post(
            reverse("hotline:ticket_step", args=[ticket.pk, "close"]),
            {"close-feedback": "unsatisfied", "close-feedback_text": "太慢"},
        )
        ticket = fresh(ticket)
        self.assertEqual((ticket.status, ticket.feedback), (TicketStatus.CLOSED, "unsatisfied"))

    def test_it_refuses_a_resident_the_staff_steps(self) -> None:
        ticket = new_ticket(self, resident=self.zeng, text="楼道灯坏了")
        self.login(self.rita_user)
        response = self.client.post(reverse("hotline:ticket_step", args=[ticket.pk, "accept"]))
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.client.get(reverse("hotline:mine")).status_code, 200)
        self.login(self.olivia)
        self.assertEqual(self.client.get(reverse("hotline:mine")).status_code, 403)


class PassLinkTest(BaseTestCase):
    def test_it_offers_a_medical_exit_pass_from_a_medical_ticket_only(self) -> None:
        medical = new_ticket(self)  # 心绞痛: a medical visit
        repair = new_ticket(self, text="楼道灯坏了", category="repair", urgency="normal")
        self.login(self.olivia)
        page = self.client.get(reverse("hotline:ticket_detail", args=[medical.pk]))
        self.assertContains(page, f"/passes/new/?ticket={medical.pk}")
        # The link opens the pass form for the ticket's resident.
        form = self.client.get(f"/passes/new/?ticket={medical.pk}")
        self.assertContains(form, self.zhang.household.address)
        page = self.client.get(reverse("hotline:ticket_detail", args=[repair.pk]))
        self.assertNotContains(page, "/passes/new/")
