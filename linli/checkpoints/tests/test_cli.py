"""The checkpoints and goods commands: keepers run only their checkpoint; no early release."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.checkpoints import actions
from linli.checkpoints.choices import GoodsStatus
from linli.checkpoints.models import Checkpoint, CourierEntry, GoodsReceipt, Shift
from linli.registry.models import Gate
from linli.test import BaseTestCase, make_user

NOON = dt.datetime(2030, 5, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


class CheckpointCommandTests(BaseTestCase):
    east: Checkpoint
    north: Checkpoint
    gate_south: Gate

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            compound = cls.unit1.building.compound
            east, south, north = (
                Gate.objects.create(compound=compound, name=name)
                for name in ("东门", "南门", "北门")
            )
            cls.gate_south = south
            cls.east = actions.checkpoint_save(
                actor=cls.carol,
                compound=compound,
                name="东门卡口",
                gates=[east],
                buildings=[cls.unit1.building],
                keepers=[cls.kate],
            )
            cls.north = actions.checkpoint_save(
                actor=cls.carol, compound=compound, name="北门卡口", gates=[north]
            )

    def test_it_merges_gates_into_a_checkpoint(self) -> None:
        with scopes_disabled():
            compound = self.unit1.building.compound
            west = Gate.objects.create(compound=compound, name="西门")
        text = run(
            "checkpoints",
            "merge",
            "--compound",
            str(compound.pk),
            "--name",
            "南西卡口",
            "--gate",
            str(self.gate_south.pk),
            str(west.pk),
            "--building",
            str(self.unit2.building_id),
            "--keeper",
            "kate",
            "--actor",
            "carol",
        )
        self.assertIn("已设卡口", text)
        with scopes_disabled():
            checkpoint = Checkpoint.objects.get(name="南西卡口")
            self.assertEqual(
                sorted(checkpoint.gate_links.values_list("gate__name", flat=True)), ["南门", "西门"]
            )
            self.assertEqual(list(checkpoint.keepers.all()), [self.kate])
        # A gate in a checkpoint already is refused, and nothing is written.
        with self.assertRaisesMessage(CommandError, "已属于卡口"):
            run(
                "checkpoints",
                "merge",
                "--compound",
                str(compound.pk),
                "--name",
                "重复",
                "--gate",
                str(west.pk),
                "--actor",
                "carol",
            )
        with scopes_disabled():
            self.assertFalse(Checkpoint.objects.filter(name="重复").exists())
        with self.assertRaisesMessage(CommandError, "无权"):
            run(
                "checkpoints",
                "merge",
                "--compound",
                str(compound.pk),
                "--name",
                "x",
                "--gate",
                str(west.pk),
                "--actor",
                "kate",
            )

    def test_it_shows_a_keeper_only_their_checkpoint(self) -> None:
        text = run("checkpoints", "list", "--actor", "kate")
        self.assertIn("东门卡口", text)
        self.assertNotIn("北门卡口", text)
        self.assertIn("北门卡口", run("checkpoints", "list", "--actor", "carol"))

    def test_it_refuses_a_keeper_outside_their_checkpoint(self) -> None:
        args = ["--name", "王师傅", "--health-code", "green", "--test-checked", "--parcels", "5"]
        with self.assertRaisesMessage(CommandError, "未找到卡口"):
            run("checkpoints", "log-courier", str(self.north.pk), *args, "--actor", "kate")
        with self.assertRaisesMessage(CommandError, "未找到卡口"):
            run(
                "goods",
                "receive",
                str(self.north.pk),
                "--sender",
                "x",
                "--count",
                "1",
                "--actor",
                "kate",
            )
        other_keeper = make_user("ken", Role.CHECKPOINT_KEEPER, community=self.community)
        with self.assertRaisesMessage(CommandError, "未找到卡口"):
            run(
                "checkpoints",
                "log-courier",
                str(self.east.pk),
                *args,
                "--actor",
                other_keeper.username,
            )
        with scopes_disabled():
            self.assertFalse(CourierEntry.objects.exists())
            self.assertFalse(GoodsReceipt.objects.exists())
        run(
            "checkpoints",
            "log-courier",
            str(self.east.pk),
            *args,
            "--phone",
            "13812345678",
            "--actor",
            "kate",
        )
        with scopes_disabled():
            entry = CourierEntry.objects.get()
        self.assertEqual(entry.recorded_by, self.kate)
        self.assertTrue(entry.accepted)
        log = run("checkpoints", "couriers", str(self.east.pk), "--actor", "kate")
        self.assertIn("138****5678", log)
        self.assertNotIn("13812345678", log)

    def test_it_logs_a_refused_courier_with_the_reason(self) -> None:
        run(
            "checkpoints",
            "log-courier",
            str(self.east.pk),
            "--name",
            "李师傅",
            "--health-code",
            "yellow",
            "--refuse",
            "黄码",
            "--actor",
            "kate",
        )
        with scopes_disabled():
            entry = CourierEntry.objects.get()
        self.assertFalse(entry.accepted)
        self.assertEqual(entry.refusal_reason, "黄码")
        with self.assertRaisesMessage(CommandError, "非绿码不能放行"):
            run(
                "checkpoints",
                "log-courier",
                str(self.east.pk),
                "--name",
                "张师傅",
                "--health-code",
                "red",
                "--test-checked",
                "--actor",
                "kate",
            )
        with scopes_disabled():
            self.assertEqual(CourierEntry.objects.count(), 1)

    @time_machine.travel(NOON, tick=False)
    def test_it_shows_the_roster_with_its_gaps(self) -> None:
        run(
            "checkpoints",
            "add-shift",
            str(self.east.pk),
            "--starts-at",
            "2030-05-01T14:00",
            "--ends-at",
            "2030-05-01T20:00",
            "--needed",
            "2",
            "--actor",
            "carol",
        )
        with scopes_disabled():
            shift = Shift.objects.get(checkpoint=self.east)
            self.assertEqual(shift.tasks.count(), 2)
        text = run("checkpoints", "roster", str(self.east.pk), "--actor", "kate")
        self.assertIn("14:00–20:00", text)
        self.assertIn("缺 2 人", text)
        with self.assertRaisesMessage(CommandError, "无权排班"):
            run(
                "checkpoints",
                "add-shift",
                str(self.east.pk),
                "--starts-at",
                "2030-05-01T08:00",
                "--ends-at",
                "2030-05-01T12:00",
                "--needed",
                "1",
                "--actor",
                "kate",
            )

    def test_it_refuses_release_before_the_hold_ends(self) -> None:
        with time_machine.travel(NOON, tick=False):
            run(
                "goods",
                "receive",
                str(self.east.pk),
                "--sender",
                "保供专班",
                "--count",
                "40",
                "--actor",
                "kate",
            )
            with scopes_disabled():
                goods = GoodsReceipt.objects.get()
                self.assertEqual(list(goods.buildings.all()), [self.unit1.building])
            with self.assertRaisesMessage(CommandError, "尚未消杀"):
                run("goods", "release", str(goods.pk), "--actor", "kate")
            run("goods", "disinfect", str(goods.pk), "--actor", "kate")
            self.assertIn("120 分钟", run("goods", "held", "--actor", "kate"))
        with time_machine.travel(NOON + dt.timedelta(minutes=119, seconds=1), tick=False):
            with self.assertRaisesMessage(CommandError, "还需 1 分钟"):
                run("goods", "release", str(goods.pk), "--actor", "kate")
            with scopes_disabled():
                goods.refresh_from_db()
            self.assertEqual(goods.status, GoodsStatus.DISINFECTED)
            self.assertIsNone(goods.released_at)
        with time_machine.travel(NOON + dt.timedelta(minutes=120), tick=False):
            run("goods", "release", str(goods.pk), "--actor", "kate")
            with scopes_disabled():
                goods.refresh_from_db()
            self.assertEqual(goods.status, GoodsStatus.RELEASED)
            self.assertEqual(goods.released_by, self.kate)
            self.assertNotIn("保供专班", run("goods", "held", "--actor", "kate"))

    def test_it_says_unknown_goods_are_not_found(self) -> None:
        with self.assertRaisesMessage(CommandError, "未找到这批物资"):
            run("goods", "release", "4242", "--actor", "kate")
        with self.assertRaisesMessage(CommandError, "未找到卡口"):
            run("checkpoints", "roster", "nope", "--actor", "kate")
