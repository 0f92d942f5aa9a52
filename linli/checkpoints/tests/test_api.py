"""The checkpoints REST API: merging gates, rosters with gaps, the courier log, goods holds
(nothing released before the hold ends), and a keeper who sees their own checkpoint only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints import actions
from linli.checkpoints.choices import GoodsStatus
from linli.checkpoints.models import Checkpoint, CheckpointGate, CourierEntry, GoodsReceipt, Shift
from linli.registry.models import Gate
from linli.test import make_user
from linli.workforce import actions as workforce
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task
from linli.workforce.tests.test_api import WorkforceApiTestCase


class CheckpointApiTestCase(WorkforceApiTestCase):
    kim: User
    east: Gate
    west: Gate
    south: Gate
    north: Gate
    far_gate: Gate
    mine: Checkpoint
    theirs: Checkpoint

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            compound = cls.unit1.building.compound
            cls.east, cls.west, cls.south, cls.north = (
                Gate.objects.create(compound=compound, name=name)
                for name in ("东门", "西门", "南门", "北门")
            )
            cls.far_gate = Gate.objects.create(compound=cls.unit_b.building.compound, name="正门")
            cls.kim = make_user("kim", Role.CHECKPOINT_KEEPER, community=cls.community)
            cls.mine = actions.checkpoint_save(
                actor=cls.carol,
                compound=compound,
                name="1号卡口",
                gates=[cls.east, cls.west],
                buildings=[cls.unit1.building],
                keepers=[cls.kate],
            )
            cls.theirs = actions.checkpoint_save(
                actor=cls.carol,
                compound=compound,
                name="2号卡口",
                gates=[cls.south],
                buildings=[cls.unit2.building],
                keepers=[cls.kim],
            )

    def receive(self, checkpoint: Checkpoint | None = None) -> GoodsReceipt:
        with scopes_disabled():
            return actions.goods_receive(
                actor=self.carol, checkpoint=checkpoint or self.mine, sender="盒马", count=30
            )

    def goods(self, pk: int) -> GoodsReceipt:
        with scopes_disabled():
            return GoodsReceipt.objects.get(pk=pk)


class CheckpointSetupTests(CheckpointApiTestCase):
    def test_it_merges_gates_into_a_checkpoint(self) -> None:
        with scopes_disabled():
            team = workforce.team_save(
                actor=self.carol, community=self.community, name="北门支部", kind="party_branch"
            )
        body = {
            "compound_id": self.east.compound_id,
            "name": "3号卡口",
            "gate_ids": [self.north.pk],
            "building_ids": [self.unit_nogrid.building_id],
            "keeper_ids": [self.kim.pk],
            "team_id": team.pk,
        }
        response = self.post(self.carol, "/api/v1/checkpoints", body)
        self.assertEqual(response.status_code, 201, response.content)
        created = response.json()
        self.assertEqual(created["gates"], [{"id": self.north.pk, "name": "北门"}])
        self.assertEqual(created["team"], {"id": team.pk, "name": "北门支部"})
        with scopes_disabled():
            checkpoint = Checkpoint.objects.get(pk=created["id"])
            self.assertEqual(checkpoint.community, self.community)
            self.assertEqual(CheckpointGate.objects.get(gate=self.north).checkpoint, checkpoint)
            self.assertEqual(list(checkpoint.keepers.all()), [self.kim])
            self.assertEqual(list(checkpoint.buildings.all()), [self.unit_nogrid.building])

        gates = self.get(self.carol, f"/api/v1/compounds/{self.east.compound_id}/gates").json()
        merged = {g["name"]: (g["checkpoint"] or {}).get("name") for g in gates}
        self.assertEqual(
            merged, {"东门": "1号卡口", "西门": "1号卡口", "南门": "2号卡口", "北门": "3号卡口"}
        )

    def test_it_replaces_a_checkpoints_gates_and_keepers(self) -> None:
        body = {"name": "1号卡口（合并）", "gate_ids": [self.east.pk, self.north.pk]}
        response = self.call(self.carol, "PUT", f"/api/v1/checkpoints/{self.mine.pk}", body)
        self.assertEqual(response.status_code, 200, response.content)
        with scopes_disabled():
            self.mine.refresh_from_db()
            self.assertEqual(self.mine.name, "1号卡口（合并）")
            gates = set(
                CheckpointGate.objects.filter(checkpoint=self.mine).values_list(
                    "gate_id", flat=True
                )
            )
            self.assertEqual(gates, {self.east.pk, self.north.pk})
            self.assertFalse(self.mine.keepers.exists())
            self.assertFalse(CheckpointGate.objects.filter(gate=self.west).exists())

    def test_it_names_the_field_of_a_bad_checkpoint_and_writes_nothing(self) -> None:
        elsewhere = make_user("kai", Role.CHECKPOINT_KEEPER, community=self.community_b)
        good = {"compound_id": self.east.compound_id, "name": "新卡口", "gate_ids": [self.north.pk]}
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"gate_ids": [self.east.pk]}, "gate_ids", "1号卡口"),
            ({"gate_ids": [self.far_gate.pk]}, "gate_ids", "不存在"),
            ({"gate_ids": []}, "gate_ids", ""),
            ({"name": "1号卡口"}, "name", "同名"),
            ({"keeper_ids": [self.alice.pk]}, "keeper_ids", str(self.alice.pk)),
            ({"keeper_ids": [elsewhere.pk]}, "keeper_ids", str(elsewhere.pk)),
            ({"compound_id": self.unit_far.building.compound_id}, "compound_id", "不存在"),
            ({"building_ids": [self.unit_b.building_id]}, "building_ids", "不存在"),
            ({"team_id": 999999}, "team_id", "不存在"),
        ]
        for change, field, text in cases:
            with self.subTest(field=field, change=change):
                response = self.post(self.carol, "/api/v1/checkpoints", good | change)
                self.fails(response, 400, **{field: text})
        with scopes_disabled():
            self.assertEqual(Checkpoint.objects.count(), 2)
            self.assertFalse(CheckpointGate.objects.filter(gate=self.north).exists())

    def test_it_lets_only_staff_set_checkpoints_up(self) -> None:
        body = {"compound_id": self.east.compound_id, "name": "x", "gate_ids": [self.north.pk]}
        for user in (self.alice, self.olivia, self.kate, self.vera.user, self.sam):
            with self.subTest(user=user.username):
                self.fails(self.post(user, "/api/v1/checkpoints", body), 403)
                put = {"name": "x", "gate_ids": [self.north.pk]}
                response = self.call(user, "PUT", f"/api/v1/checkpoints/{self.mine.pk}", put)
                self.fails(response, 403)
        with scopes_disabled():
            self.assertEqual(Checkpoint.objects.count(), 2)
            self.assertEqual(Checkpoint.objects.get(pk=self.mine.pk).name, "1号卡口")

    def test_it_shows_a_keeper_their_checkpoint_only(self) -> None:
        listed = self.get(self.kate, "/api/v1/checkpoints").json()
        self.assertEqual([c["name"] for c in listed["items"]], ["1号卡口"])
        self.assertEqual(
            self.get(self.kate, f"/api/v1/checkpoints/{self.mine.pk}").status_code, 200
        )
        theirs = self.theirs.pk
        for path in (
            f"/api/v1/checkpoints/{theirs}",
            f"/api/v1/checkpoints/{theirs}/shifts",
            f"/api/v1/checkpoints/{theirs}/couriers",
            f"/api/v1/checkpoints/{theirs}/goods",
        ):
            with self.subTest(path=path):
                self.fails(self.get(self.kate, path), 404)
        self.fails(self.get(self.kate, f"/api/v1/compounds/{self.east.compound_id}/gates"), 403)
        staff = self.get(self.carol, "/api/v1/checkpoints").json()
        self.assertEqual(staff["count"], 2)
        self.assertEqual(self.get(self.alice, "/api/v1/checkpoints").json()["count"], 2)

    def test_it_refuses_checkpoints_to_roles_without_business(self) -> None:
        for user in (self.vera.user, self.sam, self.rita_user, self.oscar):
            with self.subTest(user=user.username):
                self.fails(self.get(user, "/api/v1/checkpoints"), 403)
                self.fails(self.get(user, f"/api/v1/checkpoints/{self.mine.pk}"), 403)
                self.fails(self.get(user, "/api/v1/goods/held"), 403)
        self.fails(self.get(None, "/api/v1/checkpoints"), 401)


class ShiftTests(CheckpointApiTestCase):
    def test_it_builds_a_roster_with_gaps(self) -> None:
        path = f"/api/v1/checkpoints/{self.mine.pk}/shifts"
        body = {"starts_at": "2030-05-01T08:00:00", "ends_at": "2030-05-01T12:00:00", "needed": 2}
        response = self.post(self.carol, path, body)
        self.assertEqual(response.status_code, 201, response.content)
        created = response.json()
        self.assertEqual((created["needed"], created["gaps"]), (2, 2))
        self.assertEqual(created["starts_at"], "2030-05-01T08:00:00+08:00")
        with scopes_disabled():
            shift = Shift.objects.get(pk=created["id"])
            tasks = list(shift.tasks.order_by("pk"))
        self.assertEqual([t.pk for t in tasks], created["task_ids"])
        self.assertTrue(all(t.kind == TaskKind.DUTY_SHIFT for t in tasks))

        taken = self.post(self.vera.user, f"/api/v1/tasks/{tasks[0].pk}/take")
        self.assertEqual(taken.status_code, 200, taken.content)
        roster = self.get(self.kate, path).json()
        self.assertEqual(roster["count"], 1)
        self.assertEqual(roster["items"][0]["gaps"], 1)
        volunteers = [p["volunteer"] for p in roster["items"][0]["places"]]
        self.assertEqual(volunteers, [{"id": self.vera.pk, "name": "韦拉"}, None])

        self.fails(self.post(self.carol, path, body), 400, starts_at="已有班次")
        self.fails(self.post(self.carol, path, body | {"needed": 0}), 400, needed="不能小于")
        later = body | {"starts_at": "2030-05-01T13:00:00"}
        self.fails(self.post(self.carol, path, later), 400, ends_at="晚于")
        self.fails(self.post(self.kate, path, later | {"ends_at": "2030-05-01T18:00:00"}), 403)
        with scopes_disabled():
            self.assertEqual(Shift.objects.count(), 1)
            self.assertEqual(Task.objects.filter(kind=TaskKind.DUTY_SHIFT).count(), 2)


class CourierTests(CheckpointApiTestCase):
    def test_it_logs_couriers_with_masked_phones(self) -> None:
        path = f"/api/v1/checkpoints/{self.mine.pk}/couriers"
        body = {
            "name": "顺丰小哥",
            "phone": "13600001111",
            "company": "顺丰",
            "health_code": "green",
            "test_checked": True,
            "parcels": 12,
        }
        response = self.post(self.kate, path, body)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["phone_masked"], "136****1111")
        self.assertNotIn("13600001111", response.content.decode())
        refused = body | {"health_code": "yellow", "accepted": False, "refusal_reason": "黄码"}
        self.assertEqual(self.post(self.kate, path, refused).status_code, 201)
        with scopes_disabled():
            entries = list(CourierEntry.objects.order_by("pk"))
        self.assertEqual(
            [(e.accepted, e.recorded_by) for e in entries], [(True, self.kate), (False, self.kate)]
        )
        self.assertEqual(entries[0].phone, "13600001111")

        listed = self.get(self.kate, path).json()
        self.assertEqual(listed["count"], 2)
        self.assertEqual(self.get(self.kate, f"{path}?accepted=false").json()["count"], 1)
        self.assertNotIn("13600001111", self.get(self.kate, path).content.decode())

    def test_it_refuses_a_bad_courier_entry(self) -> None:
        path = f"/api/v1/checkpoints/{self.mine.pk}/couriers"
        good = {"name": "骑手", "health_code": "green", "test_checked": True}
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"health_code": "yellow"}, "health_code", "非绿码"),
            ({"test_checked": False}, "test_checked", "核酸"),
            ({"accepted": False}, "refusal_reason", "原因"),
            ({"health_code": "blue"}, "health_code", "取值无效"),
            ({"phone": "12345"}, "phone", ""),
            ({"parcels": -1}, "parcels", "不能小于"),
        ]
        for change, field, text in cases:
            with self.subTest(field=field):
                self.fails(self.post(self.kate, path, good | change), 400, **{field: text})
        # Grid workers may look at the log, not write it; another keeper cannot reach it.
        self.fails(self.post(self.alice, path, good), 403)
        self.fails(self.post(self.kim, path, good), 404)
        self.assertEqual(self.get(self.alice, path).status_code, 200)
        with scopes_disabled():
            self.assertFalse(CourierEntry.objects.exists())


class GoodsHoldTests(CheckpointApiTestCase):
    def test_it_receives_disinfects_holds_and_releases(self) -> None:
        path = f"/api/v1/checkpoints/{self.mine.pk}/goods"
        body = {"sender": "盒马", "count": 40, "description": "蔬菜包"}
        received_at = dt.datetime(2024, 5, 10, 1, tzinfo=dt.UTC)
        with time_machine.travel(received_at, tick=False):
            response = self.post(self.kate, path, body)
        self.assertEqual(response.status_code, 201, response.content)
        created = response.json()
        self.assertEqual([b["id"] for b in created["buildings"]], [self.unit1.building_id])
        goods_id = created["id"]
        self.assertEqual(self.goods(goods_id).status, GoodsStatus.RECEIVED)

        release = f"/api/v1/goods/{goods_id}/release"
        self.fails(self.post(self.kate, release), 400, status="尚未消杀")

        disinfected_at = received_at + dt.timedelta(minutes=10)
        with time_machine.travel(disinfected_at, tick=False):
            response = self.post(self.kate, f"/api/v1/goods/{goods_id}/disinfect")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["hold_until"], "2024-05-10T11:10:00+08:00")
        goods = self.goods(goods_id)
        self.assertEqual(goods.status, GoodsStatus.DISINFECTED)
        self.assertEqual(goods.hold_until, disinfected_at + dt.timedelta(minutes=120))

        with time_machine.travel(disinfected_at + dt.timedelta(minutes=30), tick=False):
            held = self.get(self.kate, "/api/v1/goods/held").json()
            self.fails(self.post(self.kate, release), 400, status="还需 90 分钟")
        self.assertEqual(held["items"][0]["minutes_left"], 90)
        self.assertFalse(held["items"][0]["releasable"])
        self.assertEqual(self.goods(goods_id).status, GoodsStatus.DISINFECTED)
        self.assertIsNone(self.goods(goods_id).released_at)

        with time_machine.travel(
            disinfected_at + dt.timedelta(minutes=119, seconds=59), tick=False
        ):
            self.fails(self.post(self.kate, release), 400, status="还需 1 分钟")
        released_at = disinfected_at + dt.timedelta(minutes=120)
        with time_machine.travel(released_at, tick=False):
            response = self.post(self.kate, release)
        self.assertEqual(response.status_code, 200, response.content)
        goods = self.goods(goods_id)
        self.assertEqual(
            (goods.status, goods.released_at, goods.released_by),
            (GoodsStatus.RELEASED, released_at, self.kate),
        )
        self.assertEqual(self.get(self.kate, "/api/v1/goods/held").json()["count"], 0)
        self.fails(self.post(self.kate, release), 400, status="已放行")

    def test_it_keeps_another_checkpoints_goods_from_a_keeper(self) -> None:
        theirs = self.receive(self.theirs)
        mine = self.receive()
        held = self.get(self.kate, "/api/v1/goods/held").json()
        self.assertEqual([g["id"] for g in held["items"]], [mine.pk])
        self.fails(self.post(self.kate, f"/api/v1/goods/{theirs.pk}/disinfect"), 404)
        self.assertEqual(self.goods(theirs.pk).status, GoodsStatus.RECEIVED)
        self.fails(self.post(self.alice, f"/api/v1/goods/{mine.pk}/disinfect"), 403)
        self.assertEqual(self.goods(mine.pk).status, GoodsStatus.RECEIVED)
        self.assertEqual(self.get(self.dave, "/api/v1/goods/held").json()["count"], 2)

    def test_it_names_the_field_of_bad_goods(self) -> None:
        path = f"/api/v1/checkpoints/{self.mine.pk}/goods"
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"sender": "盒马", "count": 0}, "count", "不能小于"),
            ({"sender": "", "count": 1}, "sender", "不能为空"),
            ({"sender": "盒马"}, "count", "必填"),
            (
                {"sender": "盒马", "count": 1, "building_ids": [self.unit_b.building_id]},
                "building_ids",
                "不存在",
            ),
        ]
        for body, field, text in cases:
            with self.subTest(field=field):
                self.fails(self.post(self.kate, path, body), 400, **{field: text})
        with scopes_disabled():
            self.assertFalse(GoodsReceipt.objects.exists())

    def test_it_counts_held_goods_on_the_checkpoint(self) -> None:
        self.receive()
        listed = self.get(self.kate, "/api/v1/checkpoints").json()["items"]
        self.assertEqual(listed[0]["goods_held"], 1)
        goods = self.get(
            self.kate, f"/api/v1/checkpoints/{self.mine.pk}/goods?status=received"
        ).json()
        self.assertEqual(goods["count"], 1)
