"""The meal pages: overview, policy form, eligible list, applications, enrolment, the day's
list with its PDF and per-row outcomes, figures with Excel; scoped and role-checked."""

from __future__ import annotations

import io

import openpyxl
from django_scopes import scopes_disabled

from linli.care.models import CheckIn
from linli.meals.models import MealApplication, MealDelivery, MealEnrolment, MealPolicy
from linli.meals.tests.base import TODAY, MealsTestCase
from linli.test import pdf_text


class MealPageTests(MealsTestCase):
    def test_it_shows_the_eligible_with_reasons_in_the_users_area(self) -> None:
        self.login(self.alice)
        page = self.client.get("/meals/eligible/").content.decode()
        self.assertIn("年满80周岁（80岁）", page)
        self.assertIn("长护险5级", page)
        self.assertNotIn("褚低保", page)
        self.login(self.victor)
        self.assertEqual(self.client.get("/meals/eligible/").status_code, 403)

    def test_it_edits_the_policy(self) -> None:
        self.login(self.carol)
        self.assertEqual(self.client.get("/meals/policy/xinghe/").status_code, 404)
        response = self.client.post(
            "/meals/policy/yangguang/", {"min_age": "75", "care_tags": ["lives_alone"]}
        )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            policy = MealPolicy.objects.get(community=self.community)
        self.assertEqual(
            (policy.min_age, policy.min_ltc_level, policy.care_tags), (75, None, ["lives_alone"])
        )
        self.assertFalse(policy.approved_applications)
        bad = self.client.post("/meals/policy/yangguang/", {"min_ltc_level": "8"})
        self.assertEqual(bad.status_code, 400)
        self.login(self.alice)
        self.assertEqual(self.client.get("/meals/policy/yangguang/").status_code, 403)

    def test_it_takes_an_application_and_enrols_after_approval(self) -> None:
        self.login(self.olivia)
        response = self.client.post(
            "/meals/applications/new/",
            {"resident": self.ltc4.pk, "applicant": "本人", "reason": "腿脚不便"},
        )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            application = MealApplication.objects.get(resident=self.ltc4)
        self.login(self.carol)
        self.client.post(f"/meals/applications/{application.pk}/decide/", {"status": "approved"})
        response = self.client.post(
            "/meals/enrolments/new/",
            {
                "resident": self.ltc4.pk,
                "canteen": self.canteen.pk,
                "lunch": "on",
                "diets": ["soft"],
                "starts_on": TODAY.isoformat(),
            },
        )
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        with scopes_disabled():
            self.assertEqual(MealEnrolment.objects.get().resident, self.ltc4)

    def test_it_refuses_an_enrolment_with_the_reason_on_the_form(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            "/meals/enrolments/new/",
            {
                "resident": self.almost80.pk,
                "canteen": self.canteen.pk,
                "lunch": "on",
                "starts_on": TODAY.isoformat(),
            },
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("不符合本社区爱心餐资格规则", response.content.decode())
        with scopes_disabled():
            self.assertFalse(MealEnrolment.objects.exists())

    def test_it_prints_the_daily_list_and_records_a_miss_on_the_row(self) -> None:
        enrolment = self.enrol(self.exactly80, diets=["soft"])
        self.login(self.carol)
        page = self.client.get(f"/meals/daily/?canteen={self.canteen.pk}").content.decode()
        self.assertIn("周满八", page)
        pdf = self.client.get(f"/meals/daily/{self.canteen.pk}/{TODAY.isoformat()}.pdf")
        self.assertEqual(pdf["Content-Type"], "application/pdf")
        text = pdf_text(pdf.content)
        self.assertIn("周满八", text)
        self.assertIn("软食", text)
        self.assertEqual(
            self.client.get(f"/meals/daily/{self.canteen.pk}/nonsense.pdf").status_code, 404
        )
        self.login(self.alice)
        response = self.client.post(
            f"/meals/daily/{self.canteen.pk}/record/",
            {
                "enrolment": enrolment.pk,
                "day": TODAY.isoformat(),
                "meal": "lunch",
                "status": "missed",
                "reason": "家中无人",
            },
            headers={"HX-Request": "true"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("家中无人", response.content.decode())
        with scopes_disabled():
            self.assertEqual(MealDelivery.objects.get().status, "missed")
            self.assertTrue(CheckIn.objects.filter(resident=self.exactly80).exists())
        # bob (grid 2) cannot record for grid 1's resident: not found, nothing written.
        self.login(self.bob)
        response = self.client.post(
            f"/meals/daily/{self.canteen.pk}/record/",
            {
                "enrolment": enrolment.pk,
                "day": TODAY.isoformat(),
                "meal": "lunch",
                "status": "delivered",
            },
        )
        self.assertEqual(response.status_code, 404)
        with scopes_disabled():
            self.assertEqual(MealDelivery.objects.get().status, "missed")

    def test_it_records_the_rest_as_delivered_and_reads_the_task_doors(self) -> None:
        self.enrol(self.exactly80)
        self.enrol(self.ltc5)
        self.login(self.carol)
        day = {"day": TODAY.isoformat(), "meal": "lunch"}
        # No tasks sent out yet: nothing to read from their doors.
        response = self.client.post(f"/meals/daily/{self.canteen.pk}/from-tasks/", day)
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            self.assertFalse(MealDelivery.objects.exists())
        response = self.client.post(f"/meals/daily/{self.canteen.pk}/rest/", day, follow=True)
        self.assertContains(response, "其余 2 人记为已送达")
        with scopes_disabled():
            self.assertEqual(
                sorted(MealDelivery.objects.values_list("status", flat=True)),
                ["delivered", "delivered"],
            )
        # A bad meal is refused on the page with the field named, nothing written.
        refused = self.client.post(
            f"/meals/daily/{self.canteen.pk}/rest/", {"day": TODAY.isoformat(), "meal": "supper"}
        )
        self.assertEqual(refused.status_code, 400)
        with scopes_disabled():
            self.assertEqual(MealDelivery.objects.count(), 2)

    def test_it_shows_and_exports_the_figures(self) -> None:
        self.enrol(self.exactly80)
        self.login(self.dave)
        self.assertEqual(self.client.get("/meals/figures/").status_code, 200)
        response = self.client.get(f"/meals/figures/export.xlsx?since={TODAY}&until={TODAY}")
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(rows[3][1:3], (1, 0))
        self.assertEqual(
            self.client.get("/meals/figures/?since=2025-06-20&until=2025-06-01").status_code, 400
        )
        self.login(self.sam)
        self.assertEqual(self.client.get("/meals/figures/").status_code, 403)
