"""关爱回访 in the REST API: plans, the worklist, outcomes with a ticket, undo, extra
check-ins, the audited phone, coverage, settings; scoped by role and area."""

from __future__ import annotations

import json
from typing import Any

import time_machine
from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.care.choices import CheckInStatus, PlanStatus
from linli.care.models import CarePlan, CheckIn
from linli.care.tests.base import DAY, CareTestCase, at


class CareApiTest(CareTestCase):
    def setUp(self) -> None:
        self.clock = time_machine.travel(at(9, 0), tick=False)
        self.clock.start()
        self.addCleanup(self.clock.stop)
        self.tokens: dict[int, str] = {}

    def call(self, user: User, method: str, path: str, body: Any = None) -> Any:
        if user.pk not in self.tokens:
            self.tokens[user.pk] = ApiToken.issue(user)
        headers = {"Authorization": f"Bearer {self.tokens[user.pk]}"}
        data = json.dumps(body) if body is not None else None
        return self.client.generic(
            method, "/api/v1" + path, data or "", content_type="application/json", headers=headers
        )

    def test_a_grid_worker_works_her_worklist(self) -> None:
        response = self.call(self.alice, "GET", "/care/worklist?mine=true")
        assert response.status_code == 200, response.content
        rows = response.json()
        assert [r["resident_name"] for r in rows] == ["张建国"]
        assert rows[0]["phone_masked"] == "138****8000"
        assert "13812348000" not in response.content.decode()
        pk = rows[0]["id"]
        response = self.call(
            self.alice,
            "POST",
            f"/care/check-ins/{pk}/outcome",
            {"outcome": "needs", "needs": "家里没有米了", "follow_up": "ticket"},
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == CheckInStatus.NEEDS
        assert body["ticket_id"]
        assert body["attempts"][0]["by"] == "alice"

    def test_an_outcome_is_undone(self) -> None:
        pk = self.call(self.alice, "GET", "/care/worklist").json()[0]["id"]
        self.call(self.alice, "POST", f"/care/check-ins/{pk}/outcome", {"outcome": "fine"})
        response = self.call(self.alice, "POST", f"/care/check-ins/{pk}/undo")
        assert response.json()["status"] == CheckInStatus.PENDING

    def test_bad_input_names_the_field(self) -> None:
        pk = self.call(self.alice, "GET", "/care/worklist").json()[0]["id"]
        response = self.call(
            self.alice, "POST", f"/care/check-ins/{pk}/outcome", {"outcome": "needs"}
        )
        assert response.status_code == 400
        fields = {e["field"] for e in response.json()["errors"]}
        assert {"needs", "follow_up"} <= fields
        response = self.call(self.alice, "POST", f"/care/check-ins/{pk}/outcome", {"outcome": "x"})
        assert response.status_code == 400

    def test_scope_and_roles(self) -> None:
        self.call(self.carol, "GET", "/care/worklist")
        with scopes_disabled():
            zhang = CheckIn.objects.get(resident=self.zhang, due=DAY)
        assert self.call(self.bob, "GET", f"/care/check-ins/{zhang.pk}").status_code == 404
        response = self.call(
            self.bob, "POST", f"/care/check-ins/{zhang.pk}/outcome", {"outcome": "fine"}
        )
        assert response.status_code == 404
        for user in (self.victor, self.sam, self.kate):
            assert self.call(user, "GET", "/care/worklist").status_code == 403
            assert self.call(user, "GET", "/care/plans").status_code == 403
        assert self.call(self.dave, "GET", "/care/coverage").status_code == 200
        response = self.call(
            self.olivia, "POST", f"/care/check-ins/{zhang.pk}/outcome", {"outcome": "fine"}
        )
        assert response.status_code == 403

    def test_plans_are_listed_created_and_paused(self) -> None:
        response = self.call(self.alice, "GET", "/care/plans")
        assert [p["resident_name"] for p in response.json()["items"]] == ["张建国"]
        response = self.call(
            self.alice, "POST", "/care/plans", {"resident_id": self.zeng.pk, "kind": "call"}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "resident_id"
        response = self.call(
            self.alice,
            "PUT",
            f"/care/plans/{self.zhang_plan.pk}",
            {"kind": "call_and_visit", "visit_every_days": 5, "preferred_time": "10:30"},
        )
        assert response.status_code == 200, response.content
        assert response.json()["schedule"] == "每天电话，每5天上门"
        response = self.call(
            self.alice, "POST", f"/care/plans/{self.zhang_plan.pk}/pause", {"reason": "住院"}
        )
        assert response.json()["status"] == PlanStatus.PAUSED
        assert self.call(self.bob, "GET", f"/care/plans/{self.zhang_plan.pk}").status_code == 404

    def test_staff_plan_in_bulk(self) -> None:
        response = self.call(
            self.carol, "POST", "/care/plans/bulk", {"tags": ["dibao", "lives_alone"]}
        )
        assert response.json() == {"created": 0, "skipped": 2}
        response = self.call(self.alice, "POST", "/care/plans/bulk", {"tags": ["dibao"]})
        assert response.status_code == 403

    def test_an_extra_check_in_and_the_phone(self) -> None:
        response = self.call(
            self.alice, "POST", "/care/check-ins", {"resident_id": self.zeng.pk, "reason": "未取餐"}
        )
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        response = self.call(self.alice, "POST", f"/care/check-ins/{pk}/reveal-phone")
        assert response.json() == {"phone": "13912341234"}

    def test_coverage_and_settings(self) -> None:
        self.call(self.carol, "GET", "/care/worklist")
        rows = self.call(self.carol, "GET", f"/care/coverage?since={DAY}&until={DAY}").json()
        assert {r["grid"] for r in rows if r["day"]} == {"第一网格", "第二网格"}
        assert all(r["planned"] == 1 for r in rows)
        response = self.call(
            self.carol,
            "PUT",
            "/care/settings/yangguang",
            {"retry_minutes": 15, "escalate_at": "15:00"},
        )
        assert response.json()["retry_minutes"] == 15
        response = self.call(
            self.alice,
            "PUT",
            "/care/settings/yangguang",
            {"retry_minutes": 15, "escalate_at": "15:00"},
        )
        assert response.status_code == 403
        with scopes_disabled():
            assert CarePlan.objects.count() == 2
