"""The wish endpoints: staff lifecycle, scope (404 outside the area, 403 for roles that may
not), the public claim endpoints without sign-in and without personal data."""

from __future__ import annotations

import json
from typing import Any

from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.wishes.choices import WishStatus
from linli.wishes.models import Claimer, Wish, WishBatch
from linli.wishes.tests.base import WishTestCase
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task


class WishApiTests(WishTestCase):
    def setUp(self) -> None:
        self.tokens: dict[int, str] = {}

    def call(self, user: User | None, method: str, path: str, body: Any = None) -> Any:
        headers = {}
        if user is not None:
            if user.pk not in self.tokens:
                self.tokens[user.pk] = ApiToken.issue(user)
            headers["Authorization"] = f"Bearer {self.tokens[user.pk]}"
        send = getattr(self.client, method.lower())
        if body is None:
            return send("/api/v1" + path, headers=headers)
        return send(
            "/api/v1" + path,
            data=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )

    def fails(self, response: Any, status: int, **fields: str) -> None:
        self.assertEqual(response.status_code, status, response.content)
        errors = {e["field"]: e["message"] for e in response.json()["errors"]}
        for field, text in fields.items():
            self.assertIn(text, errors.get(field, ""), response.json())

    def test_it_runs_the_lifecycle_collect_approve_batch_publish_claim_fulfil_thank(self) -> None:
        made = self.call(
            self.alice,
            "POST",
            "/wishes",
            {
                "household_id": self.zhang.household_id,
                "recipient": "一位独居老人",
                "item": "老花镜",
            },
        )
        self.assertEqual(made.status_code, 201, made.content)
        wish_id = made.json()["id"]
        self.assertEqual(made.json()["status"], WishStatus.COLLECTED)
        self.fails(self.call(self.alice, "POST", f"/wishes/{wish_id}/approve"), 403)
        self.assertEqual(
            self.call(self.carol, "POST", f"/wishes/{wish_id}/approve").json()["status"],
            WishStatus.APPROVED,
        )
        batch = self.call(
            self.carol,
            "POST",
            "/wish-batches",
            {
                "title": "春节",
                "deliver_by": self.batch.deliver_by.isoformat(),
                "per_claimer_limit": 1,
            },
        )
        self.assertEqual(batch.status_code, 201, batch.content)
        batch_id = batch.json()["id"]
        self.call(self.carol, "POST", f"/wish-batches/{batch_id}/wishes", {"wish_ids": [wish_id]})
        published = self.call(self.carol, "POST", f"/wish-batches/{batch_id}/publish").json()
        self.assertEqual((published["status"], published["wishes"]), ("published", 1))
        code = published["code"]

        public = self.call(None, "GET", f"/public/wish-batches/{code}")
        self.assertEqual(public.status_code, 200)
        self.assertEqual(public.json()["wishes"][0]["item"], "老花镜")
        for text in ("张建国", "阳光小区", "13812348000", "高血压"):
            self.assertNotIn(text, public.content.decode())
        claim = self.call(
            None,
            "POST",
            f"/public/wish-batches/{code}/claims",
            {"wish_id": wish_id, "name": "陈志明", "phone": "13900002222", "work_unit": "市三中"},
        )
        self.assertEqual(claim.status_code, 201, claim.content)
        token = claim.json()["token"]
        self.assertTrue(claim.json()["live"])
        seen = self.call(None, "GET", f"/public/wish-claims/{token}")
        self.assertEqual(seen.json()["deliver_by"], self.batch.deliver_by.isoformat())

        detail = self.call(self.carol, "GET", f"/wishes/{wish_id}").json()
        self.assertEqual(detail["claimer"]["phone_masked"], "139****2222")
        self.assertEqual(detail["deliver_by"], self.batch.deliver_by.isoformat())
        received = self.call(self.carol, "POST", f"/wishes/{wish_id}/receive", {"note": "已收"})
        self.assertEqual(received.json()["status"], WishStatus.FULFILLED)
        thanked = self.call(self.alice, "POST", f"/wishes/{wish_id}/thank", {"thanks": "谢谢"})
        self.assertEqual(thanked.json()["status"], WishStatus.THANKED)
        events = self.call(self.carol, "GET", f"/wishes/{wish_id}/events").json()
        self.assertEqual(
            [e["to_status"] for e in events],
            ["collected", "approved", "approved", "published", "claimed", "fulfilled", "thanked"],
        )

    def test_it_refuses_a_second_claim_and_a_claim_over_the_limit_with_400(self) -> None:
        path = f"/public/wish-batches/{self.batch.code}/claims"
        body = {"name": "王建军", "phone": "13800001111", "work_unit": "区税务局"}
        for wish in (self.scarf, self.diapers):
            self.assertEqual(
                self.call(None, "POST", path, {**body, "wish_id": wish.pk}).status_code, 201
            )
        self.fails(
            self.call(None, "POST", path, {**body, "wish_id": self.blanket.pk}),
            400,
            phone="每人最多认领 2 个心愿",
        )
        self.fails(
            self.call(
                None, "POST", path, {**body, "phone": "13900009999", "wish_id": self.scarf.pk}
            ),
            400,
            wish_id="已被他人认领",
        )
        self.fails(
            self.call(None, "POST", path, {**body, "phone": "123", "wish_id": self.blanket.pk}),
            400,
            phone="11位数字",
        )
        self.fails(self.call(None, "POST", path, {**body, "wish_id": self.far_wish.pk}), 400)
        self.assertEqual(
            self.call(None, "GET", f"/public/wish-batches/{self.draft.code}").status_code, 404
        )

    def test_it_releases_by_token_and_by_staff(self) -> None:
        token = self.claim(self.scarf)
        released = self.call(
            None, "POST", f"/public/wish-claims/{token}/release", {"reason": "出差"}
        )
        self.assertEqual(released.status_code, 200, released.content)
        self.assertFalse(released.json()["live"])
        self.fails(self.call(None, "POST", f"/public/wish-claims/{token}/release", {}), 400)
        self.fails(self.call(None, "GET", "/public/wish-claims/nope"), 404)
        self.claim(self.diapers)
        self.fails(
            self.call(self.carol, "POST", f"/wishes/{self.diapers.pk}/release", {"reason": ""}), 400
        )
        self.assertEqual(
            self.call(
                self.carol, "POST", f"/wishes/{self.diapers.pk}/release", {"reason": "联系不上"}
            ).json()["status"],
            WishStatus.PUBLISHED,
        )

    def test_it_sends_a_claimed_wish_to_the_door_as_a_wish_delivery(self) -> None:
        self.claim(self.scarf)
        self.claim(self.diapers)
        response = self.call(
            self.carol, "POST", f"/wishes/{self.scarf.pk}/door", {"wish_ids": [self.diapers.pk]}
        )
        self.assertEqual(response.status_code, 201, response.content)
        with scopes_disabled():
            task = Task.objects.get(pk=response.json()["task_id"])
        self.assertEqual(task.kind, TaskKind.WISH_DELIVERY)
        self.fails(
            self.call(self.carol, "POST", f"/wishes/{self.blanket.pk}/door", {}),
            400,
            wish_ids="只有已认领的心愿",
        )

    def test_it_scopes_lists_and_objects_to_the_users_area(self) -> None:
        items = {w["item"] for w in self.call(self.alice, "GET", "/wishes").json()["items"]}
        self.assertEqual(items, {"围巾和手套", "成人纸尿裤"})
        self.fails(self.call(self.alice, "GET", f"/wishes/{self.schoolbag.pk}"), 404)
        self.fails(self.call(self.carol, "GET", f"/wishes/{self.far_wish.pk}"), 404)
        for user in (self.victor, self.sam, self.rita_user, self.kate):
            self.fails(self.call(user, "GET", "/wishes"), 403)
            self.fails(self.call(user, "GET", f"/wish-batches/{self.batch.pk}"), 403)
        self.fails(self.call(None, "GET", "/wishes"), 401)
        self.fails(
            self.call(
                self.carol,
                "POST",
                "/wishes",
                {"household_id": self.zhao.household_id, "recipient": "一位老人", "item": "x"},
            ),
            400,
            household_id="不存在或不在您的管辖范围内",
        )

    def test_it_reveals_a_claimers_phone_to_staff_only(self) -> None:
        self.claim(self.scarf)
        with scopes_disabled():
            claimer = Claimer.objects.get()
        claimers = self.call(self.carol, "GET", f"/wish-batches/{self.batch.pk}/claimers").json()
        self.assertEqual(claimers[0]["phone_masked"], "138****1111")
        self.fails(
            self.call(
                self.alice, "POST", f"/wish-claimers/{claimer.pk}/reveal", {"reason": "联系"}
            ),
            403,
        )
        revealed = self.call(
            self.carol, "POST", f"/wish-claimers/{claimer.pk}/reveal", {"reason": "联系送达"}
        )
        self.assertEqual(revealed.json(), {"phone": "13800001111"})

    def test_it_gives_the_figures(self) -> None:
        self.claim(self.scarf)
        self.claim(self.diapers)
        self.claim(self.schoolbag, phone="13900002222")
        self.claim(self.blanket, phone="13900002222")
        figures = self.call(self.carol, "GET", "/figures/wishes").json()
        by_status = {r["status"]: r["wishes"] for r in figures["by_status"]}
        self.assertEqual(by_status["claimed"], 4)
        timing = figures["batches"][0]
        self.assertEqual((timing["wishes"], timing["claimed"]), (4, 4))
        self.assertIsNotNone(timing["all_claimed_at"])
        self.assertEqual(
            figures["by_work_unit"],
            [{"work_unit": "区税务局", "claimers": 2, "wishes": 4, "fulfilled": 0}],
        )
        self.fails(self.call(self.carol, "GET", "/figures/wishes?batch_id=999999"), 404)

    def test_it_edits_a_batchs_limit_and_closes_it(self) -> None:
        body = {
            "title": "冬日微心愿",
            "deliver_by": self.batch.deliver_by.isoformat(),
            "per_claimer_limit": 0,
        }
        self.fails(self.call(self.carol, "POST", f"/wish-batches/{self.batch.pk}/edit", body), 400)
        body["per_claimer_limit"] = 3
        self.assertEqual(
            self.call(self.carol, "POST", f"/wish-batches/{self.batch.pk}/edit", body).json()[
                "per_claimer_limit"
            ],
            3,
        )
        closed = self.call(self.carol, "POST", f"/wish-batches/{self.batch.pk}/close").json()
        self.assertEqual(closed["status"], "closed")
        with scopes_disabled():
            self.assertEqual(WishBatch.objects.get(pk=self.batch.pk).per_claimer_limit, 3)
            self.assertEqual(Wish.objects.filter(batch=self.batch).count(), 0)
