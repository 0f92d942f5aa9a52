"""The rules page: reading, adding, switching off, overriding a default, and the try-it box."""

from __future__ import annotations

from linli.test import BaseTestCase
from linli.triage.models import TriageRule


class RulesPageTests(BaseTestCase):
    def test_staff_see_the_defaults_and_add_a_rule(self) -> None:
        self.login(self.carol)
        page = self.client.get("/triage/rules/")
        self.assertContains(page, "心绞痛")
        self.assertContains(page, "新增规则")
        response = self.client.post(
            "/triage/rules/new/?community=yangguang",
            {"name": "方言", "keywords": "勿适意\n心口头痛", "category": "medical",
             "urgency": "urgent", "priority": "60", "negatable": "on", "enabled": "on"},
        )  # fmt: skip
        self.assertEqual(response.status_code, 302)
        rule = TriageRule.objects.get(name="方言")
        self.assertEqual((rule.community, rule.updated_by), (self.community, self.carol))

    def test_a_bad_rule_answers_400_naming_the_field_and_saves_nothing(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            "/triage/rules/new/", {"name": "x", "keywords": "y", "priority": "50"}
        )
        self.assertContains(response, "至少选一项", status_code=400)
        self.assertFalse(TriageRule.objects.filter(name="x").exists())

    def test_staff_switch_off_and_override_a_default(self) -> None:
        self.login(self.carol)
        default = TriageRule.objects.get(community=None, name="其他")
        response = self.client.post(f"/triage/rules/{default.pk}/override/")
        copy = TriageRule.objects.get(community=self.community, name="其他")
        self.assertRedirects(response, f"/triage/rules/{copy.pk}/edit/")
        self.client.post(f"/triage/rules/{copy.pk}/enabled/", {"enabled": "0"})
        self.assertFalse(TriageRule.objects.get(pk=copy.pk).enabled)
        refused = self.client.post(f"/triage/rules/{default.pk}/enabled/", {"enabled": "0"})
        self.assertEqual(refused.status_code, 403)
        self.assertTrue(TriageRule.objects.get(pk=default.pk).enabled)

    def test_the_try_box_shows_category_urgency_and_trigger_words(self) -> None:
        self.login(self.olivia)
        response = self.client.post(
            "/triage/try/", {"text": "我爸喘不上气"}, headers={"HX-Request": "true"}
        )
        self.assertContains(response, "危急")
        self.assertContains(response, "<mark>喘不上气</mark>", html=False)
        self.assertNotContains(response, "<html")

    def test_others_may_not_edit_and_outsiders_may_not_read(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.get("/triage/rules/").status_code, 200)
        self.assertEqual(self.client.get("/triage/rules/new/").status_code, 403)
        for user in (self.kate, self.victor, self.rita_user):
            self.login(user)
            self.assertEqual(self.client.get("/triage/rules/").status_code, 403)
        far = TriageRule.objects.create(
            community=self.community_far, name="远方", keywords="x", urgency="low"
        )
        self.login(self.carol)
        self.assertEqual(self.client.get(f"/triage/rules/{far.pk}/edit/").status_code, 404)
