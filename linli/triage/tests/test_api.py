"""POST /api/v1/triage and the rules in the REST API."""

from __future__ import annotations

from linli.registry.tests.test_api import ApiTestCase
from linli.triage.models import TriageRule


class TriageApiTests(ApiTestCase):
    def test_it_triages_a_text(self) -> None:
        response = self.call(self.olivia, "POST", "/api/v1/triage", {"text": "老婆破水了"})
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual((body["category"], body["urgency"]), ("prenatal", "critical"))
        self.assertEqual(body["urgency_label"], "危急")
        self.assertIn("破水", body["reasons"])

    def test_it_refuses_empty_text_and_roles_that_do_not_take_requests(self) -> None:
        self.assert_error(self.call(self.olivia, "POST", "/api/v1/triage", {"text": ""}), 400)
        self.assert_error(self.call(self.victor, "POST", "/api/v1/triage", {"text": "胸痛"}), 403)
        self.assert_error(self.call(None, "POST", "/api/v1/triage", {"text": "胸痛"}), 401)

    def test_staff_create_update_disable_and_delete_their_rules(self) -> None:
        response = self.call(
            self.carol,
            "POST",
            "/api/v1/triage/rules",
            {"name": "方言", "keywords": ["勿适意"], "category": "medical", "urgency": "urgent"},
        )
        self.assertEqual(response.status_code, 201, response.content)
        rule = TriageRule.objects.get(pk=response.json()["id"])
        self.assertEqual((rule.community, rule.created_by), (self.community, self.carol))
        triaged = self.call(self.olivia, "POST", "/api/v1/triage", {"text": "姆妈勿适意"})
        self.assertEqual(triaged.json()["urgency"], "urgent")

        update = self.call(
            self.carol,
            "PUT",
            f"/api/v1/triage/rules/{rule.pk}",
            {"name": "方言", "keywords": ["勿适意", "勿舒服"], "urgency": "critical"},
        )
        self.assertEqual(update.status_code, 200, update.content)
        rule.refresh_from_db()
        self.assertEqual((rule.keywords, rule.urgency), ("勿适意\n勿舒服", "critical"))

        off = self.call(
            self.carol, "POST", f"/api/v1/triage/rules/{rule.pk}/enabled", {"enabled": False}
        )
        self.assertEqual(off.status_code, 200)
        self.assertFalse(TriageRule.objects.get(pk=rule.pk).enabled)
        gone = self.call(self.carol, "DELETE", f"/api/v1/triage/rules/{rule.pk}")
        self.assertEqual(gone.status_code, 204)
        self.assertFalse(TriageRule.objects.filter(pk=rule.pk).exists())

    def test_a_rule_needs_a_category_or_urgency(self) -> None:
        response = self.call(
            self.carol, "POST", "/api/v1/triage/rules", {"name": "x", "keywords": ["y"]}
        )
        self.assert_error(response, 400, category="至少选一项")
        self.assertFalse(TriageRule.objects.filter(name="x").exists())

    def test_staff_override_a_default_but_may_not_change_it(self) -> None:
        default = TriageRule.objects.get(community=None, name="透析")
        refused = self.call(
            self.carol, "POST", f"/api/v1/triage/rules/{default.pk}/enabled", {"enabled": False}
        )
        self.assert_error(refused, 403)
        self.assertTrue(TriageRule.objects.get(pk=default.pk).enabled)
        copy = self.call(self.carol, "POST", f"/api/v1/triage/rules/{default.pk}/override", {})
        self.assertEqual(copy.status_code, 201, copy.content)
        self.assertEqual(copy.json()["community"], "yangguang")

    def test_grid_workers_read_rules_and_another_community_is_hidden(self) -> None:
        other = TriageRule.objects.create(
            community=self.community_far, name="远方", keywords="x", urgency="low"
        )
        self.assertEqual(self.get(self.alice, "/api/v1/triage/rules").status_code, 200)
        self.assert_error(self.get(self.carol, f"/api/v1/triage/rules/{other.pk}"), 404)
        self.assert_error(
            self.call(self.alice, "POST", "/api/v1/triage/rules",
                      {"name": "x", "keywords": ["y"], "urgency": "low"}),
            403,
        )  # fmt: skip

    def test_it_reports_the_evaluation(self) -> None:
        body = self.get(self.carol, "/api/v1/triage/evaluation").json()
        self.assertEqual(body["critical_recall"], 1.0)
        self.assertGreaterEqual(body["size"], 300)
