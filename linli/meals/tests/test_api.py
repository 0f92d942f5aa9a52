"""Meal aid in the REST API: the policy, who it covers, applications, enrolments, the day's
list and tasks, deliveries and figures; scope (404), roles (403) and field errors (400)."""

from __future__ import annotations

import json
from typing import Any

from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.care.models import CheckIn
from linli.meals.models import MealApplication, MealDelivery, MealEnrolment, MealPolicy
from linli.meals.tests.base import TODAY, MealsTestCase


class MealApiTests(MealsTestCase):
    def call(self, user: User, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"}
        send = getattr(self.client, method.lower())
        if body is None:
            return send(path, headers=headers)
        return send(path, data=json.dumps(body), content_type="application/json", headers=headers)

    def test_it_lists_who_the_policy_covers_with_reasons(self) -> None:
        body = self.call(self.carol, "GET", "/api/v1/meals/eligible?limit=50").json()
        reasons = {item["name"]: item["reasons"] for item in body["items"]}
        self.assertEqual(body["count"], 5)
        self.assertEqual(reasons["卫双条"], ["年满80周岁（85岁）", "长护险6级"])
        alice = self.call(self.alice, "GET", "/api/v1/meals/eligible").json()
        self.assertEqual({i["name"] for i in alice["items"]}, {"周满八", "吴长护"})

    def test_it_sets_the_policy_for_staff_only(self) -> None:
        body: dict[str, Any] = {
            "min_age": 85,
            "min_ltc_level": None,
            "care_tags": [],
            "approved_applications": False,
        }
        response = self.call(self.carol, "PUT", "/api/v1/meals/policies/yangguang", body)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["summary"], "年满85周岁")
        with scopes_disabled():
            policy = MealPolicy.objects.get(community=self.community)
        self.assertEqual(
            (policy.min_age, policy.min_ltc_level, policy.updated_by), (85, None, self.carol)
        )
        self.assertEqual(
            self.call(self.alice, "PUT", "/api/v1/meals/policies/yangguang", body).status_code, 403
        )
        self.assertEqual(
            self.call(self.carol, "PUT", "/api/v1/meals/policies/xinghe", body).status_code, 404
        )
        bad = self.call(
            self.carol, "PUT", "/api/v1/meals/policies/yangguang", {**body, "min_ltc_level": 9}
        )
        self.assertEqual(bad.status_code, 400)
        self.assertEqual(bad.json()["errors"][0]["field"], "min_ltc_level")

    def test_it_takes_and_decides_an_application(self) -> None:
        response = self.call(
            self.olivia,
            "POST",
            "/api/v1/meals/applications",
            {
                "resident_id": self.almost80.pk,
                "applicant": "女儿郑丽",
                "reason": "独自在家做饭困难",
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        pk = response.json()["id"]
        path = f"/api/v1/meals/applications/{pk}/decide"
        self.assertEqual(
            self.call(self.olivia, "POST", path, {"status": "approved"}).status_code, 403
        )
        declined = self.call(self.carol, "POST", path, {"status": "declined"})
        self.assertEqual(declined.status_code, 400)
        self.assertEqual(declined.json()["errors"][0]["field"], "reason")
        approved = self.call(self.carol, "POST", path, {"status": "approved"})
        self.assertEqual(approved.json()["status"], "approved")
        with scopes_disabled():
            application = MealApplication.objects.get(pk=pk)
        self.assertEqual(
            (application.created_by, application.decided_by), (self.olivia, self.carol)
        )
        # Now covered: enrol through the API.
        response = self.call(
            self.carol,
            "POST",
            "/api/v1/meals/enrolments",
            {
                "resident_id": self.almost80.pk,
                "canteen_id": self.canteen.pk,
                "meals": ["lunch"],
                "diets": ["low_salt"],
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["diet_labels"], ["低盐"])

    def test_it_refuses_an_enrolment_outside_the_area_or_the_policy(self) -> None:
        outside = self.call(
            self.carol,
            "POST",
            "/api/v1/meals/enrolments",
            {"resident_id": self.b_old95.pk, "canteen_id": self.canteen.pk, "meals": ["lunch"]},
        )
        self.assertEqual(outside.status_code, 400)
        self.assertEqual(outside.json()["errors"][0]["field"], "resident_id")
        not_covered = self.call(
            self.carol,
            "POST",
            "/api/v1/meals/enrolments",
            {"resident_id": self.ltc4.pk, "canteen_id": self.canteen.pk, "meals": ["lunch"]},
        )
        self.assertEqual(not_covered.status_code, 400)
        self.assertEqual(not_covered.json()["errors"][0]["field"], "resident_id")
        with scopes_disabled():
            self.assertFalse(MealEnrolment.objects.exists())

    def test_it_gives_the_daily_list_records_a_miss_and_counts(self) -> None:
        enrolment = self.enrol(self.exactly80, dinner=True)
        self.enrol(self.ltc5)
        daily = self.call(
            self.carol, "GET", f"/api/v1/meals/daily?canteen_id={self.canteen.pk}"
        ).json()
        self.assertEqual((daily["lunch"], daily["dinner"]), (2, 1))
        tasks = self.call(
            self.alice,
            "POST",
            "/api/v1/meals/daily/tasks",
            {"canteen_id": self.canteen.pk, "meal": "lunch"},
        )
        self.assertEqual(len(tasks.json()["created"]), 1)  # both in 1号楼
        missed = self.call(
            self.alice,
            "POST",
            "/api/v1/meals/deliveries",
            {
                "enrolment_id": enrolment.pk,
                "meal": "lunch",
                "status": "missed",
                "reason": "家中无人",
            },
        )
        self.assertEqual(missed.status_code, 200, missed.content)
        with scopes_disabled():
            self.assertEqual(
                missed.json()["check_in_id"], CheckIn.objects.get(resident=self.exactly80).pk
            )
        rest = self.call(
            self.alice,
            "POST",
            "/api/v1/meals/daily/rest-delivered",
            {"canteen_id": self.canteen.pk, "meal": "lunch"},
        )
        self.assertEqual(rest.json()["delivered"], 1)
        figures = self.call(
            self.dave, "GET", f"/api/v1/meals/figures?since={TODAY}&until={TODAY}"
        ).json()
        self.assertEqual((figures["planned"], figures["delivered"], figures["missed"]), (3, 1, 1))
        self.assertEqual(figures["people_served"], 1)
        # A volunteer sees nothing of it; another street's canteen is not found.
        self.assertEqual(self.call(self.victor, "GET", "/api/v1/meals/eligible").status_code, 403)
        self.assertEqual(
            self.call(
                self.bob,
                "POST",
                "/api/v1/meals/deliveries",
                {"enrolment_id": enrolment.pk, "meal": "lunch", "status": "delivered"},
            ).status_code,
            400,
        )
        with scopes_disabled():
            self.assertEqual(MealDelivery.objects.count(), 2)
