"""Checkpoint pages: the list (gates merged so far), the form, and who may see what."""

from __future__ import annotations

from typing import Any

from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.checkpoints import actions
from linli.checkpoints.models import Checkpoint, CheckpointGate
from linli.registry.models import Compound, Gate
from linli.test import BaseTestCase, make_user


def build_checkpoints(world: Any) -> None:
    """阳光小区's four gates and two checkpoints, on a test case (or class) with personas."""
    world.compound = world.unit1.building.compound
    world.east_gate, world.south_gate, world.west_gate, world.north_gate = (
        Gate.objects.create(compound=world.compound, name=name)
        for name in ("东门", "南门", "西门", "北门")
    )
    world.east = actions.checkpoint_save(
        actor=world.carol,
        compound=world.compound,
        name="东卡口",
        gates=[world.east_gate, world.south_gate],
        buildings=[world.unit1.building],
        keepers=[world.kate],
    )
    world.west = actions.checkpoint_save(
        actor=world.carol,
        compound=world.compound,
        name="西卡口",
        gates=[world.west_gate],
        buildings=[world.unit2.building],
    )


class CheckpointPageTestCase(BaseTestCase):
    """阳光小区 has four gates: 东门 and 南门 make 东卡口 (kate keeps it), 西门 makes 西卡口
    (nobody keeps it), 北门 is in no checkpoint yet."""

    compound: Compound
    east_gate: Gate
    south_gate: Gate
    west_gate: Gate
    north_gate: Gate
    east: Checkpoint
    west: Checkpoint

    @classmethod
    def build_world(cls) -> None:
        super().build_world()
        build_checkpoints(cls)


class CheckpointListTest(CheckpointPageTestCase):
    def test_it_lists_checkpoints_and_gates_not_yet_merged_for_staff(self) -> None:
        self.login(self.carol)
        response = self.client.get("/checkpoints/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "东卡口")
        self.assertContains(response, "西卡口")
        self.assertContains(response, "未归入卡口的出入口")
        self.assertContains(response, "4 个出入口 → 2 个卡口，1 个出入口未归入")
        self.assertContains(response, '<span class="tag">北门</span>', html=True)
        self.assertContains(response, "kate")

    def test_it_shows_goods_held_and_couriers_today(self) -> None:
        with scopes_disabled():
            actions.goods_receive(actor=self.kate, checkpoint=self.east, sender="超市", count=7)
            actions.courier_log(
                actor=self.kate,
                checkpoint=self.east,
                name="骑手甲",
                health_code="green",
                test_checked=True,
                parcels=12,
                accepted=True,
            )
        self.login(self.carol)
        response = self.client.get("/checkpoints/")
        self.assertContains(response, "1 批 / 7 件")
        self.assertContains(response, "1 人（放行 1，12 件）")

    def test_it_shows_a_keeper_only_the_checkpoints_she_keeps(self) -> None:
        self.login(self.kate)
        response = self.client.get("/checkpoints/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "东卡口")
        self.assertNotContains(response, "西卡口")
        self.assertNotContains(response, "未归入卡口的出入口")
        for path in (
            f"/checkpoints/{self.west.pk}/",
            f"/checkpoints/{self.west.pk}/couriers/",
            f"/checkpoints/{self.west.pk}/goods/",
        ):
            self.assertEqual(self.client.get(path).status_code, 404, path)
        self.assertEqual(self.client.get(f"/checkpoints/{self.east.pk}/").status_code, 200)

    def test_it_lets_grid_workers_and_operators_look(self) -> None:
        for user in (self.alice, self.olivia):
            self.login(user)
            response = self.client.get("/checkpoints/")
            self.assertContains(response, "西卡口")
            self.assertNotContains(response, "新建卡口")

    def test_it_refuses_roles_that_do_not_work_checkpoints(self) -> None:
        paths = [
            "/checkpoints/",
            f"/checkpoints/{self.east.pk}/",
            f"/checkpoints/{self.east.pk}/couriers/",
            f"/checkpoints/{self.east.pk}/goods/",
            "/goods/held/",
            f"/compounds/{self.compound.pk}/checkpoints/new/",
        ]
        for user in (self.victor, self.sam, self.rita_user, self.oscar):
            self.login(user)
            for path in paths:
                self.assertEqual(self.client.get(path).status_code, 403, (user, path))

    def test_it_sends_anonymous_visitors_to_sign_in(self) -> None:
        response = self.client.get("/checkpoints/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("login", response["Location"])

    def test_it_shows_a_street_admin_every_community_of_the_street(self) -> None:
        with scopes_disabled():
            Gate.objects.create(compound=self.unit_b.building.compound, name="正门")
            Gate.objects.create(compound=self.unit_far.building.compound, name="远方门")
        self.login(self.dave)
        response = self.client.get("/checkpoints/")
        self.assertContains(response, "星河湾")
        self.assertContains(response, "正门")
        self.assertNotContains(response, "远方门")


class CheckpointFormTest(CheckpointPageTestCase):
    def test_it_merges_gates_into_a_new_checkpoint(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            f"/compounds/{self.compound.pk}/checkpoints/new/",
            {
                "name": "北卡口",
                "gates": [self.north_gate.pk],
                "buildings": [self.unit_nogrid.building.pk],
                "keepers": [self.kate.pk],
            },
        )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            north = Checkpoint.objects.get(compound=self.compound, name="北卡口")
            self.assertEqual([link.gate for link in north.gate_links.all()], [self.north_gate])
            self.assertEqual(list(north.buildings.all()), [self.unit_nogrid.building])
            self.assertEqual(list(north.keepers.all()), [self.kate])
        self.assertEqual(response["Location"], f"/checkpoints/{north.pk}/")

    def test_it_refuses_a_gate_already_in_another_checkpoint_and_names_it(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            f"/compounds/{self.compound.pk}/checkpoints/new/",
            {"name": "北卡口", "gates": [self.north_gate.pk, self.west_gate.pk]},
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "西门 已属于卡口“西卡口”", status_code=400)
        with scopes_disabled():
            self.assertFalse(Checkpoint.objects.filter(name="北卡口").exists())
            self.assertEqual(CheckpointGate.objects.get(gate=self.west_gate).checkpoint, self.west)
            self.assertFalse(CheckpointGate.objects.filter(gate=self.north_gate).exists())

    def test_it_refuses_a_checkpoint_without_gates_or_name(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            f"/compounds/{self.compound.pk}/checkpoints/new/", {"name": "北卡口"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "请至少选择一个出入口", status_code=400)
        with scopes_disabled():
            self.assertEqual(Checkpoint.objects.count(), 2)

    def test_it_shows_gates_of_other_checkpoints_disabled_with_their_checkpoint(self) -> None:
        self.login(self.carol)
        response = self.client.get(f"/compounds/{self.compound.pk}/checkpoints/new/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "西门（已属于卡口“西卡口”）")
        html = response.content.decode()
        west_input = html[html.index(f'value="{self.west_gate.pk}"') - 200 :]
        self.assertIn("disabled", west_input[: west_input.index(">", 200)])

    def test_it_edits_a_checkpoint_and_keeps_its_own_gates_selectable(self) -> None:
        self.login(self.carol)
        response = self.client.get(f"/checkpoints/{self.east.pk}/edit/")
        self.assertNotContains(response, "东门（已属于卡口")
        response = self.client.post(
            f"/checkpoints/{self.east.pk}/edit/",
            {"name": "东大门卡口", "gates": [self.east_gate.pk, self.north_gate.pk]},
        )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            self.east.refresh_from_db()
            self.assertEqual(self.east.name, "东大门卡口")
            gates = set(self.east.gate_links.values_list("gate__name", flat=True))
            self.assertEqual(gates, {"东门", "北门"})
            self.assertFalse(self.east.keepers.exists())

    def test_it_lets_only_managers_change_checkpoints(self) -> None:
        for user in (self.kate, self.alice, self.olivia):
            self.login(user)
            response = self.client.post(
                f"/checkpoints/{self.east.pk}/edit/", {"name": "改名", "gates": [self.east_gate.pk]}
            )
            self.assertEqual(response.status_code, 403)
            self.assertEqual(
                self.client.get(f"/compounds/{self.compound.pk}/checkpoints/new/").status_code, 403
            )
        with scopes_disabled():
            self.assertEqual(Checkpoint.objects.get(pk=self.east.pk).name, "东卡口")

    def test_it_does_not_find_a_compound_outside_the_community(self) -> None:
        self.login(self.carol)
        compound_b = self.unit_b.building.compound
        response = self.client.get(f"/compounds/{compound_b.pk}/checkpoints/new/")
        self.assertEqual(response.status_code, 404)
        self.login(self.dave)
        response = self.client.get(f"/compounds/{compound_b.pk}/checkpoints/new/")
        self.assertEqual(response.status_code, 200)

    def test_it_offers_keepers_of_this_community_and_unplaced_ones(self) -> None:
        with scopes_disabled():
            make_user("kai", Role.CHECKPOINT_KEEPER)
            make_user("kim", Role.CHECKPOINT_KEEPER, community=self.community_b)
        self.login(self.carol)
        response = self.client.get(f"/compounds/{self.compound.pk}/checkpoints/new/")
        self.assertContains(response, "kate（已值守：东卡口）")
        self.assertContains(response, "kai")
        self.assertNotContains(response, "kim")
