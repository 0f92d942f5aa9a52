"""Tickets, SLA targets and figures through the REST API, scoped like the pages."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken
from linli.hotline.models import SlaTarget, Ticket
from linli.hotline.tests.test_actions import new_ticket
from linli.registry.tests.test_api import ApiTestCase


class TicketApiTest(ApiTestCase):
    def test_it_creates_a_triaged_ticket_for_a_resident(self) -> None:
        response = self.call(
            self.olivia,
            "POST",
            "/api/v1/tickets",
            {"description": "我母亲92岁了，心绞痛发作", "resident_id": self.zhang.pk},
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["category"], body["urgency"]), ("medical", "critical"))
        self.assertIn("心绞痛", body["triage_reasons"])
        self.assertEqual(body["owner_id"], self.alice.pk)
        self.assertEqual(body["events"][0]["kind"], "created")
        with scopes_disabled():
            self.assertEqual(Ticket.objects.get().created_by, self.olivia)

    def test_it_names_the_field_of_bad_input(self) -> None:
        response = self.call(
            self.olivia, "POST", "/api/v1/tickets", {"description": "x", "resident_id": self.far.pk}
        )
        self.assert_error(response, 400, resident_id="不存在")
        response = self.call(
            self.olivia, "POST", "/api/v1/tickets", {"description": "x", "urgency": "panic"}
        )
        self.assert_error(response, 400, urgency="请选择紧急程度")
        self.assertNotIn("dialysis", response.content.decode())
        with scopes_disabled():
            self.assertFalse(Ticket.objects.exists())

    def test_it_scopes_the_list_and_detail(self) -> None:
        mine = new_ticket(self)
        other = new_ticket(self, resident=self.li)
        ids = {t["id"] for t in self.get(self.alice, "/api/v1/tickets").json()["items"]}
        self.assertEqual(ids, {mine.pk})
        self.assert_error(self.get(self.alice, f"/api/v1/tickets/{other.pk}"), 404)
        ids = {t["id"] for t in self.get(self.dave, "/api/v1/tickets").json()["items"]}
        self.assertEqual(ids, {mine.pk, other.pk})
        for user in (self.victor, self.sam, self.kate):
            self.assert_error(self.get(user, "/api/v1/tickets"), 403)

    def test_it_walks_a_ticket_to_closed(self) -> None:
        ticket = new_ticket(self)
        base = f"/api/v1/tickets/{ticket.pk}"
        self.assertEqual(self.call(self.alice, "POST", f"{base}/accept", {}).status_code, 200)
        self.assertEqual(
            self.call(self.alice, "POST", f"{base}/notes", {"note": "已联系家属"}).status_code, 201
        )
        response = self.call(self.alice, "POST", f"{base}/resolve", {"resolution": "已送医"})
        self.assertEqual(response.json()["status"], "resolved")
        response = self.call(self.olivia, "POST", f"{base}/close", {"feedback": "satisfied"})
        self.assertEqual(response.json()["status"], "closed")
        response = self.call(self.olivia, "POST", f"{base}/cancel", {"reason": "晚了"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("已关闭", response.json()["errors"][0]["message"])

    def test_it_escalates_assigns_and_makes_an_errand(self) -> None:
        ticket = new_ticket(self, text="帮忙配药", category="medicine", urgency="normal")
        base = f"/api/v1/tickets/{ticket.pk}"
        response = self.call(self.olivia, "POST", f"{base}/escalate", {"reason": "家属催"})
        self.assertEqual(response.json()["escalation_level"], 1)
        response = self.call(self.olivia, "POST", f"{base}/assign", {"owner_id": self.bob.pk})
        self.assert_error(response, 400, owner_id="不负责")
        response = self.call(self.olivia, "POST", f"{base}/assign", {"owner_id": self.carol.pk})
        self.assertEqual(response.json()["owner_id"], self.carol.pk)
        response = self.call(self.olivia, "POST", f"{base}/errand", {})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(self.get(self.olivia, base).json()["task_id"], response.json()["task_id"])

    def test_it_takes_an_attachment(self) -> None:
        ticket = new_ticket(self)
        token = ApiToken.issue(self.alice)
        response = self.client.post(
            f"/api/v1/tickets/{ticket.pk}/attachments",
            {"file": SimpleUploadedFile("a.jpg", b"\xff\xd8 jpeg")},
            headers={"Authorization": f"Bearer {token}"},
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["attachments"][0]["name"], "a.jpg")

    def test_it_lets_a_resident_raise_only_their_own(self) -> None:
        response = self.call(
            self.rita_user,
            "POST",
            "/api/v1/tickets",
            {"description": "水管漏水", "resident_id": self.zhang.pk},
        )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["resident_id"], self.zeng.pk)
        self.assertEqual(response.json()["channel"], "resident_page")
        other = new_ticket(self)
        self.assert_error(self.get(self.rita_user, f"/api/v1/tickets/{other.pk}"), 404)
        mine = response.json()["id"]
        self.assert_error(
            self.call(self.rita_user, "POST", f"/api/v1/tickets/{mine}/accept", {}), 403
        )


class SlaAndFiguresApiTest(ApiTestCase):
    def test_it_lists_and_changes_targets(self) -> None:
        rows = self.get(self.olivia, "/api/v1/hotline/sla-targets").json()
        self.assertEqual(len(rows), 40)
        body = {
            "category": "medical",
            "urgency": "critical",
            "respond_minutes": 5,
            "resolve_minutes": 60,
        }
        self.assert_error(self.call(self.olivia, "PUT", "/api/v1/hotline/sla-targets", body), 403)
        response = self.call(self.carol, "PUT", "/api/v1/hotline/sla-targets", body)
        self.assertEqual(response.json()["respond_minutes"], 5)
        with scopes_disabled():
            self.assertEqual(
                SlaTarget.objects.get(category="medical", urgency="critical").updated_by,
                self.carol,
            )
        body["resolve_minutes"] = 2
        self.assert_error(
            self.call(self.carol, "PUT", "/api/v1/hotline/sla-targets", body),
            400,
            resolve_minutes="不能短于",
        )

    def test_it_gives_the_figures(self) -> None:
        new_ticket(self)
        body = self.get(self.carol, "/api/v1/hotline/figures").json()
        self.assertEqual((body["total"]["tickets"], body["total"]["calls"]), (1, 1))
        self.assertEqual(body["total"]["escorts"], 1)
        self.assert_error(self.get(self.victor, "/api/v1/hotline/figures"), 403)


class FieldRolesApiTest(ApiTestCase):
    def test_it_refuses_field_roles_everywhere_without_naming_health_codes(self) -> None:
        ticket = new_ticket(self)
        paths = [
            "/api/v1/tickets",
            f"/api/v1/tickets/{ticket.pk}",
            *(
                f"/api/v1/tickets/{ticket.pk}/{step}"
                for step in (
                    "accept", "start", "resolve", "close", "reopen", "cancel", "escalate",
                    "assign", "reclassify", "notes", "errand",
                )
            ),
            "/api/v1/hotline/sla-targets",
        ]  # fmt: skip
        bodies = [{}, {"category": "x", "urgency": "y", "description": "z", "feedback": "q"}]
        for user in (self.victor, self.sam, self.kate):
            for path in paths:
                for body in bodies:
                    response = self.call(user, "POST", path, body)
                    self.assertIn(response.status_code, (400, 403, 404, 405), path)
                    self.assertNotIn("dialysis", response.content.decode(), path)
            self.assert_error(self.get(user, "/api/v1/hotline/figures"), 403)
