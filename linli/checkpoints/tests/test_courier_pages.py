"""The courier log page: the gate's rules (green code, test checked, a reason to refuse)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import time_machine
from django_scopes import scopes_disabled

from linli.checkpoints import actions
from linli.checkpoints.models import CourierEntry
from linli.checkpoints.tests.test_pages import CheckpointPageTestCase

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)


@time_machine.travel(NOON, tick=False)
class CourierPageTest(CheckpointPageTestCase):
    def _log(self, **values: object) -> Any:
        data = {
            "name": "王骑手",
            "phone": "13800001234",
            "company": "顺丰",
            "health_code": "green",
            "test_checked": "on",
            "parcels": "15",
            "decision": "accept",
            "refusal_reason": "",
        } | values
        return self.client.post(
            f"/checkpoints/{self.east.pk}/couriers/",
            {k: v for k, v in data.items() if v is not None},
        )

    def _entries(self) -> list[CourierEntry]:
        with scopes_disabled():
            return list(CourierEntry.objects.all())

    def test_it_logs_an_accepted_courier_and_shows_the_phone_masked(self) -> None:
        self.login(self.kate)
        response = self._log()
        self.assertEqual(response.status_code, 302)
        [entry] = self._entries()
        self.assertEqual(
            (entry.name, entry.phone, entry.company, entry.parcels),
            ("王骑手", "13800001234", "顺丰", 15),
        )
        self.assertTrue(entry.accepted)
        self.assertEqual(entry.recorded_by, self.kate)
        response = self.client.get(f"/checkpoints/{self.east.pk}/couriers/")
        self.assertContains(response, "138****1234")
        self.assertNotContains(response, "13800001234")
        self.assertContains(response, "12:00")
        self.assertContains(response, "绿码")

    def test_it_refuses_to_accept_a_red_code(self) -> None:
        self.login(self.kate)
        response = self._log(health_code="red")
        self.assertContains(response, "非绿码不能放行", status_code=400)
        self.assertEqual(self._entries(), [])

    def test_it_refuses_to_accept_without_a_checked_test(self) -> None:
        self.login(self.kate)
        response = self._log(test_checked=None)
        self.assertContains(response, "未查验核酸阴性证明不能放行", status_code=400)
        self.assertEqual(self._entries(), [])

    def test_it_refuses_a_refusal_without_a_reason(self) -> None:
        self.login(self.kate)
        response = self._log(decision="refuse", health_code="yellow")
        self.assertContains(response, "拒绝放行请填写原因", status_code=400)
        self.assertEqual(self._entries(), [])

    def test_it_logs_a_refusal_with_its_reason(self) -> None:
        self.login(self.kate)
        response = self._log(decision="refuse", health_code="yellow", refusal_reason="黄码")
        self.assertEqual(response.status_code, 302)
        [entry] = self._entries()
        self.assertFalse(entry.accepted)
        self.assertEqual(entry.refusal_reason, "黄码")
        response = self.client.get(f"/checkpoints/{self.east.pk}/couriers/")
        self.assertContains(response, "拒绝</span>：黄码")

    def test_it_answers_bad_input_with_field_errors(self) -> None:
        self.login(self.kate)
        for values in (
            {"parcels": "很多"},
            {"parcels": "-1"},
            {"name": ""},
            {"phone": "12345"},
            {"health_code": "purple"},
        ):
            response = self._log(**values)
            self.assertEqual(response.status_code, 400, values)
            self.assertContains(response, 'class="errorlist"', status_code=400)
        self.assertEqual(self._entries(), [])

    def test_it_totals_the_day_and_filters_by_day(self) -> None:
        with scopes_disabled():
            for name, accepted, parcels in (("甲", True, 10), ("乙", True, 5), ("丙", False, 3)):
                actions.courier_log(
                    actor=self.kate,
                    checkpoint=self.east,
                    name=name,
                    health_code="green" if accepted else "red",
                    test_checked=accepted,
                    parcels=parcels,
                    accepted=accepted,
                    refusal_reason="" if accepted else "红码",
                )
            actions.courier_log(
                actor=self.kate,
                checkpoint=self.east,
                name="昨天的骑手",
                health_code="green",
                test_checked=True,
                parcels=99,
                accepted=True,
                arrived_at=NOON - dt.timedelta(days=1),
            )
        self.login(self.kate)
        response = self.client.get(f"/checkpoints/{self.east.pk}/couriers/")
        self.assertContains(response, '<div class="stat" id="total-accepted">2</div>', html=True)
        self.assertContains(response, '<div class="stat" id="total-refused">1</div>', html=True)
        self.assertContains(response, '<div class="stat" id="total-parcels">15</div>', html=True)
        self.assertNotContains(response, "昨天的骑手")
        response = self.client.get(f"/checkpoints/{self.east.pk}/couriers/?date=2026-11-23")
        self.assertContains(response, "昨天的骑手")
        self.assertContains(response, '<div class="stat" id="total-parcels">99</div>', html=True)
        self.assertNotContains(response, 'id="courier-form"')

    def test_it_lets_viewers_read_the_log_but_not_write_it(self) -> None:
        self.login(self.alice)
        response = self.client.get(f"/checkpoints/{self.east.pk}/couriers/")
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, 'id="courier-form"')
        self.assertEqual(self._log().status_code, 403)
        self.assertEqual(self._entries(), [])

    def test_it_does_not_let_kate_log_at_a_checkpoint_she_does_not_keep(self) -> None:
        self.login(self.kate)
        response = self.client.post(
            f"/checkpoints/{self.west.pk}/couriers/",
            {"name": "x", "health_code": "green", "test_checked": "on", "parcels": "1"},
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self._entries(), [])

    def test_it_refuses_roles_outside_checkpoint_work(self) -> None:
        for user in (self.victor, self.sam, self.rita_user, self.oscar):
            self.login(user)
            self.assertEqual(self._log().status_code, 403)
        self.assertEqual(self._entries(), [])
