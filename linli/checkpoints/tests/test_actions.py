"""Checkpoint actions: merging gates, rosters with gaps, the courier rules, and the goods
hold that nothing may leave early (the database refuses it too)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_scopes import scopes_disabled

from linli.checkpoints import actions
from linli.checkpoints.choices import GoodsStatus, HealthCode
from linli.checkpoints.models import Checkpoint, CourierEntry, GoodsReceipt
from linli.registry.models import Gate
from linli.workforce import actions as workforce
from linli.workforce.choices import TaskKind, TaskStatus
from linli.workforce.tests.test_actions import WorkforceTestCase

NOON = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


class CheckpointTestCase(WorkforceTestCase):
    checkpoint: Checkpoint
    gates: list[Gate]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            compound = cls.unit1.building.compound
            cls.gates = [Gate.objects.create(compound=compound, name=f"{n}号门") for n in (1, 2, 3)]
            cls.checkpoint = actions.checkpoint_save(
                actor=cls.carol,
                compound=compound,
                name="东门卡口",
                gates=cls.gates[:2],
                buildings=[cls.unit1.building],
                keepers=[cls.kate],
            )


class MergeTest(CheckpointTestCase):
    def test_it_merges_gates_and_refuses_a_gate_already_merged(self) -> None:
        with scopes_disabled():
            self.assertEqual(
                sorted(link.gate.name for link in self.checkpoint.gate_links.all()),
                ["1号门", "2号门"],
            )
            with self.assertRaises(ValidationError) as caught:
                actions.checkpoint_save(
                    actor=self.carol,
                    compound=self.gates[0].compound,
                    name="西门卡口",
                    gates=[self.gates[1], self.gates[2]],
                )
            self.assertEqual(caught.exception.message_dict["gates"], ["2号门 已属于卡口“东门卡口”"])
            self.assertEqual(Checkpoint.objects.count(), 1)

    def test_it_moves_a_gate_out_when_the_checkpoint_is_changed(self) -> None:
        with scopes_disabled():
            actions.checkpoint_save(
                actor=self.carol,
                compound=self.gates[0].compound,
                name="东门卡口",
                gates=[self.gates[0]],
                keepers=[self.kate],
                checkpoint=self.checkpoint,
            )
            west = actions.checkpoint_save(
                actor=self.carol,
                compound=self.gates[0].compound,
                name="西门卡口",
                gates=[self.gates[1], self.gates[2]],
            )
            self.assertEqual(west.gate_links.count(), 2)

    def test_it_accepts_only_checkpoint_keeper_accounts_as_keepers(self) -> None:
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.checkpoint_save(
                actor=self.carol,
                compound=self.gates[0].compound,
                name="北门卡口",
                gates=[self.gates[2]],
                keepers=[self.alice],
            )
        self.assertIn("keepers", caught.exception.message_dict)

    def test_it_refuses_a_keeper_working_for_another_community(self) -> None:
        from linli.test import make_user

        other = make_user("keeper_b", "checkpoint_keeper", community=self.community_b)
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.checkpoint_save(
                actor=self.carol,
                compound=self.gates[0].compound,
                name="北门卡口",
                gates=[self.gates[2]],
                keepers=[other],
            )
        self.assertEqual(caught.exception.message_dict["keepers"], ["keeper_b 属于其他社区"])


class RosterTest(CheckpointTestCase):
    def test_it_makes_one_duty_task_per_place_and_counts_the_gaps(self) -> None:
        volunteer = self.make_volunteer()
        with scopes_disabled():
            shift = actions.shift_create(
                actor=self.carol,
                checkpoint=self.checkpoint,
                starts_at=NOON,
                ends_at=NOON + dt.timedelta(hours=4),
                needed=3,
            )
            tasks = list(shift.tasks.all())
            self.assertEqual([t.kind for t in tasks], [TaskKind.DUTY_SHIFT] * 3)
            self.assertEqual(tasks[0].title, "阳光小区东门卡口 值守 11-20 12:00–16:00")
            self.assertEqual(shift.gaps, 3)
            workforce.task_assign(actor=self.carol, task=tasks[0], volunteer=volunteer)
            self.assertEqual(shift.gaps, 2)
            with self.assertRaises(ValidationError) as caught:
                actions.shift_create(
                    actor=self.carol,
                    checkpoint=self.checkpoint,
                    starts_at=NOON,
                    ends_at=NOON - dt.timedelta(hours=1),
                    needed=0,
                )
        self.assertEqual(set(caught.exception.message_dict), {"ends_at", "needed", "starts_at"})
        tasks[0].refresh_from_db()
        self.assertEqual(tasks[0].status, TaskStatus.ASSIGNED)


class CourierTest(CheckpointTestCase):
    def log(self, **overrides: object) -> CourierEntry:
        values: dict[str, object] = {
            "name": "王师傅",
            "phone": "13700001234",
            "company": "顺丰",
            "health_code": HealthCode.GREEN,
            "test_checked": True,
            "parcels": 12,
            "accepted": True,
        }
        values.update(overrides)
        with scopes_disabled():
            return actions.courier_log(actor=self.kate, checkpoint=self.checkpoint, **values)  # type: ignore[arg-type]

    def test_it_logs_an_accepted_courier_with_the_phone_encrypted(self) -> None:
        entry = self.log()
        self.assertEqual(entry.masked_phone, "137****1234")
        self.assertEqual(entry.recorded_by, self.kate)

    def test_it_refuses_to_let_in_without_a_green_code_and_a_checked_test(self) -> None:
        for overrides, field in (
            ({"health_code": HealthCode.YELLOW}, "health_code"),
            ({"test_checked": False}, "test_checked"),
            ({"accepted": False}, "refusal_reason"),
            ({"phone": "12345"}, "phone"),
        ):
            with self.subTest(field), self.assertRaises(ValidationError) as caught:
                self.log(**overrides)
            self.assertIn(field, caught.exception.message_dict)
        refused = self.log(health_code=HealthCode.RED, accepted=False, refusal_reason="红码")
        self.assertEqual(refused.refusal_reason, "红码")
        with scopes_disabled():
            self.assertEqual(CourierEntry.objects.count(), 1)


class GoodsHoldTest(CheckpointTestCase):
    def receive(self) -> GoodsReceipt:
        with scopes_disabled():
            return actions.goods_receive(
                actor=self.kate, checkpoint=self.checkpoint, sender="江桥批发市场", count=40
            )

    def test_it_holds_goods_for_the_community_time_after_disinfection(self) -> None:
        with time_machine.travel(NOON, tick=False):
            goods = self.receive()
            with scopes_disabled():
                actions.goods_disinfect(actor=self.kate, goods=goods)
        goods.refresh_from_db()
        self.assertEqual(goods.status, GoodsStatus.DISINFECTED)
        self.assertEqual(goods.hold_until, NOON + dt.timedelta(hours=2))
        self.assertEqual(goods.minutes_left(NOON + dt.timedelta(minutes=30)), 90)
        with scopes_disabled():
            self.assertEqual(list(goods.buildings.all()), [self.unit1.building])

    def test_it_refuses_release_before_the_hold_ends(self) -> None:
        with time_machine.travel(NOON, tick=False) as traveller:
            goods = self.receive()
            with scopes_disabled():
                with self.assertRaises(ValidationError) as caught:
                    actions.goods_release(actor=self.kate, goods=goods)
                self.assertEqual(
                    caught.exception.message_dict["status"], ["物资尚未消杀，不能放行"]
                )
                actions.goods_disinfect(actor=self.kate, goods=goods)
                traveller.shift(dt.timedelta(minutes=119, seconds=30))
                with self.assertRaises(ValidationError) as caught:
                    actions.goods_release(actor=self.kate, goods=goods)
                self.assertEqual(
                    caught.exception.message_dict["status"],
                    ["静置未满：还需 1 分钟（14:00 后可放行）"],
                )
                goods.refresh_from_db()
                self.assertEqual((goods.status, goods.released_at), (GoodsStatus.DISINFECTED, None))
                traveller.shift(dt.timedelta(seconds=30))
                actions.goods_release(actor=self.kate, goods=goods)
                with self.assertRaises(ValidationError):
                    actions.goods_release(actor=self.kate, goods=goods)
        goods.refresh_from_db()
        self.assertEqual((goods.status, goods.released_by), (GoodsStatus.RELEASED, self.kate))

    def test_it_uses_the_community_hold_time(self) -> None:
        self.community.goods_hold_minutes = 30
        with scopes_disabled():
            self.community.save()
        with time_machine.travel(NOON, tick=False) as traveller:
            goods = self.receive()
            with scopes_disabled():
                actions.goods_disinfect(actor=self.kate, goods=goods)
                traveller.shift(dt.timedelta(minutes=30))
                actions.goods_release(actor=self.kate, goods=goods)
        goods.refresh_from_db()
        self.assertEqual(goods.status, GoodsStatus.RELEASED)

    def test_it_is_refused_by_the_database_even_past_the_code(self) -> None:
        with time_machine.travel(NOON, tick=False):
            goods = self.receive()
            with scopes_disabled():
                actions.goods_disinfect(actor=self.kate, goods=goods)
                with self.assertRaises(IntegrityError), transaction.atomic():
                    GoodsReceipt.objects.filter(pk=goods.pk).update(
                        status=GoodsStatus.RELEASED, released_at=NOON
                    )
        goods.refresh_from_db()
        self.assertEqual(goods.status, GoodsStatus.DISINFECTED)
