"""The hand-off chain through the actions: dispatched → received and held at the checkpoint
→ released → bundled into delivery tasks → delivered or failed (the grid worker told) and
tried again, with the household's delivery status following every step."""

from __future__ import annotations

import datetime as dt
import io

import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.checkpoints import actions as checkpoint_actions
from linli.checkpoints.choices import GoodsStatus
from linli.checkpoints.models import Checkpoint, GoodsReceipt
from linli.lib.identity import compose_id_number
from linli.notify.models import Message
from linli.registry.models import Gate
from linli.supply import actions
from linli.supply.actions import ItemInput
from linli.supply.choices import RoundStatus, ShipmentStatus
from linli.supply.models import Order, Shipment, Supplier, SupplyRound
from linli.supply.tests.base import SupplyTestCase
from linli.workforce import actions as workforce
from linli.workforce.choices import StopStatus, TaskKind, TaskStatus
from linli.workforce.models import Task, TaskStop, Volunteer

HOLD = dt.timedelta(minutes=121)


def make_volunteer(community: object, carol: object, name: str = "周志愿", n: int = 1) -> Volunteer:
    volunteer = workforce.volunteer_signup(
        community=community,  # type: ignore[arg-type]
        data=workforce.SignupInput(
            name=name,
            phone=f"1370000{n:04d}",
            id_number=compose_id_number("110101", dt.date(1990, 1, n), 400 + n),
            password="a long enough password",
        ),
    )
    return workforce.volunteer_review(actor=carol, volunteer=volunteer, status="verified")  # type: ignore[arg-type]


class HandoffTestCase(SupplyTestCase):
    """阳光小区 has one checkpoint (kate keeps it) serving 1号楼 and 2号楼; sam supplies."""

    checkpoint: Checkpoint
    volunteer: Volunteer
    _zeng_order: Order

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.supplier.accounts.add(cls.sam)
            compound = cls.unit1.building.compound
            gate = Gate.objects.create(compound=compound, name="东门")
            cls.checkpoint = checkpoint_actions.checkpoint_save(
                actor=cls.carol,
                compound=compound,
                name="东门卡口",
                gates=[gate],
                buildings=[cls.unit1.building, cls.unit2.building],
                keepers=[cls.kate],
            )
            cls.volunteer = make_volunteer(cls.community, cls.carol)

    def closed_round(self, *, with_zeng: bool = False) -> tuple[SupplyRound, Order, Order]:
        """张 (1号楼, grid 1) orders both packages, 李 (2号楼, grid 2) the vegetables (and
        曾, 1号楼, the vegetables when asked); closed."""
        round, veg, rice = self.open_round()
        with scopes_disabled():
            zhang = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1), ItemInput(rice, 1)],
            )
            li = actions.order_place(
                actor=self.bob, round=round, household=self.home("li"), items=[ItemInput(veg, 1)]
            )
            if with_zeng:
                self._zeng_order = actions.order_place(
                    actor=self.alice,
                    round=round,
                    household=self.home("zeng"),
                    items=[ItemInput(veg, 1)],
                )
            round = actions.round_close(actor=self.carol, round=round)
        return round, zhang, li

    def statuses(self, *orders: Order) -> list[str]:
        with scopes_disabled():
            return [Order.objects.get(pk=o.pk).delivery_status for o in orders]

    def held(self, round: SupplyRound, *, bags: int) -> Shipment:
        """The round's goods dispatched, received at the checkpoint and disinfected."""
        with scopes_disabled():
            shipment = actions.shipment_dispatch(
                actor=self.sam,
                round=round,
                supplier=self.supplier,
                checkpoint=self.checkpoint,
                bags=bags,
            )
            shipment = actions.shipment_receive(actor=self.kate, shipment=shipment)
            assert shipment.goods is not None
            checkpoint_actions.goods_disinfect(actor=self.kate, goods=shipment.goods)
        return shipment

    def released(self, *, with_zeng: bool = False) -> tuple[SupplyRound, Order, Order, Shipment]:
        """The round's goods dispatched, received, disinfected and released after the hold."""
        round, zhang, li = self.closed_round(with_zeng=with_zeng)
        shipment = self.held(round, bags=3)
        with time_machine.travel(timezone.now() + HOLD), scopes_disabled():
            shipment = actions.shipment_release(actor=self.kate, shipment=shipment)
        return round, zhang, li, shipment

    def bundled(self, *, with_zeng: bool = False) -> tuple[SupplyRound, Order, Order, list[Task]]:
        round, zhang, li, _shipment = self.released(with_zeng=with_zeng)
        with scopes_disabled():
            tasks = actions.bundles_create(
                actor=self.carol, round=round, checkpoint=self.checkpoint
            )
        return round, zhang, li, tasks

    def start(self, task: Task) -> Task:
        with scopes_disabled():
            task = workforce.task_take(volunteer=self.volunteer, task=task)
            return workforce.task_start(actor=self.volunteer.user, task=task)

    def stop_of(self, order: Order) -> TaskStop:
        with scopes_disabled():
            stop = Order.objects.get(pk=order.pk).task_stop
            assert stop is not None
            return stop


class ChainTest(HandoffTestCase):
    def test_it_runs_the_whole_chain_and_records_who_and_when(self) -> None:
        round, zhang, li = self.closed_round()
        self.assertEqual(round.status, RoundStatus.ALLOCATED)
        self.assertEqual(self.statuses(zhang, li), ["waiting", "waiting"])

        with scopes_disabled():
            shipment = actions.shipment_dispatch(
                actor=self.sam,
                round=round,
                supplier=self.supplier,
                checkpoint=self.checkpoint,
                bags=3,
            )
            round.refresh_from_db()
        self.assertEqual(round.status, RoundStatus.DISPATCHED)
        self.assertEqual(round.status_changed_by, self.sam)
        self.assertEqual((shipment.dispatched_by, shipment.bags), (self.sam, 3))
        self.assertEqual(self.statuses(zhang, li), ["dispatched", "dispatched"])

        with scopes_disabled():
            shipment = actions.shipment_receive(actor=self.kate, shipment=shipment)
            assert shipment.goods is not None
            goods = GoodsReceipt.objects.get(pk=shipment.goods.pk)
            self.assertEqual(
                (goods.sender, goods.count, goods.received_by), ("惠民生鲜配送", 3, self.kate)
            )
            self.assertEqual(sorted(b.name for b in goods.buildings.all()), ["1号楼", "2号楼"])
            checkpoint_actions.goods_disinfect(actor=self.kate, goods=goods)
        self.assertEqual(shipment.status, ShipmentStatus.RECEIVED)
        self.assertEqual(self.statuses(zhang, li), ["at_checkpoint", "at_checkpoint"])

        with time_machine.travel(timezone.now() + HOLD), scopes_disabled():
            shipment = actions.shipment_release(actor=self.kate, shipment=shipment)
            goods.refresh_from_db()
        self.assertEqual((goods.status, goods.released_by), (GoodsStatus.RELEASED, self.kate))
        self.assertEqual(shipment.status, ShipmentStatus.RELEASED)
        self.assertEqual(self.statuses(zhang, li), ["released", "released"])

        with scopes_disabled():
            tasks = actions.bundles_create(
                actor=self.carol, round=round, checkpoint=self.checkpoint
            )
            shipment.refresh_from_db()
            self.assertEqual(
                sorted((t.kind, t.place, t.size, t.created_by_id) for t in tasks),
                [
                    (TaskKind.DELIVERY_BUNDLE, "阳光小区1号楼", 2, self.carol.pk),
                    (TaskKind.DELIVERY_BUNDLE, "阳光小区2号楼", 1, self.carol.pk),
                ],
            )
            self.assertEqual(self.stop_of(zhang).items, "米面油套餐×1、蔬菜包×1")
            self.assertEqual(self.stop_of(li).items, "蔬菜包×1")
        self.assertEqual(shipment.status, ShipmentStatus.BUNDLED)
        self.assertEqual(self.statuses(zhang, li), ["out_for_delivery", "out_for_delivery"])

        for task in tasks:
            self.start(task)
        with scopes_disabled():
            stop = self.stop_of(zhang)
            workforce.stop_deliver(actor=self.volunteer.user, stop=stop, code=stop.door_code)
            workforce.stop_left_at_door(actor=self.volunteer.user, stop=self.stop_of(li))
            changed = actions.orders_sync_deliveries(round, actor=self.carol)
            round.refresh_from_db()
            order = Order.objects.get(pk=zhang.pk)
        self.assertEqual(changed, 2)
        self.assertEqual(self.statuses(zhang, li), ["delivered", "delivered"])
        self.assertEqual(order.get_delivery_status_display(), "已送达")
        self.assertIsNotNone(order.delivery_status_at)
        self.assertEqual(round.status, RoundStatus.DELIVERED)

    def test_it_refuses_to_release_before_the_hold_ends(self) -> None:
        round, zhang, _li = self.closed_round()
        start = timezone.now()
        with time_machine.travel(start, tick=False), scopes_disabled():
            shipment = actions.shipment_dispatch(
                actor=self.sam,
                round=round,
                supplier=self.supplier,
                checkpoint=self.checkpoint,
                bags=2,
            )
            shipment = actions.shipment_receive(actor=self.kate, shipment=shipment)
            with self.assertRaises(ValidationError) as not_disinfected:
                actions.shipment_release(actor=self.kate, shipment=shipment)
            assert shipment.goods is not None
            checkpoint_actions.goods_disinfect(actor=self.kate, goods=shipment.goods)
        with time_machine.travel(start + dt.timedelta(minutes=90), tick=False), scopes_disabled():
            with self.assertRaises(ValidationError) as held:
                actions.shipment_release(actor=self.kate, shipment=shipment)
            shipment.refresh_from_db()
        self.assertEqual(not_disinfected.exception.messages, ["物资尚未消杀，不能放行"])
        self.assertIn("静置未满：还需 30 分钟", held.exception.messages[0])
        self.assertEqual(shipment.status, ShipmentStatus.RECEIVED)
        self.assertEqual(self.statuses(zhang), ["at_checkpoint"])

    def test_it_notices_goods_released_on_the_checkpoint_page(self) -> None:
        round, zhang, li = self.closed_round()
        shipment = self.held(round, bags=2)
        assert shipment.goods is not None
        with time_machine.travel(timezone.now() + HOLD), scopes_disabled():
            checkpoint_actions.goods_release(actor=self.kate, goods=shipment.goods)
            self.assertEqual(self.statuses(zhang), ["at_checkpoint"])
            # Bundling syncs first, so the goods released elsewhere are found.
            tasks = actions.bundles_create(
                actor=self.carol, round=round, checkpoint=self.checkpoint
            )
            shipment.refresh_from_db()
        self.assertEqual(len(tasks), 2)
        self.assertEqual(shipment.status, ShipmentStatus.BUNDLED)
        self.assertEqual(self.statuses(zhang, li), ["out_for_delivery", "out_for_delivery"])

    def test_it_refuses_dispatch_before_close_twice_or_with_nothing_to_send(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1)],
            )
            with self.assertRaises(ValidationError) as too_early:
                actions.shipment_dispatch(
                    actor=self.sam,
                    round=round,
                    supplier=self.supplier,
                    checkpoint=self.checkpoint,
                    bags=1,
                )
            round = actions.round_close(actor=self.carol, round=round)
            with self.assertRaises(ValidationError) as no_bags:
                actions.shipment_dispatch(
                    actor=self.sam,
                    round=round,
                    supplier=self.supplier,
                    checkpoint=self.checkpoint,
                    bags=0,
                )
            other = Supplier.objects.create(
                street=self.street, name="另一家超市", kind="chain_supermarket"
            )
            with self.assertRaises(ValidationError) as nothing:
                actions.shipment_dispatch(
                    actor=self.carol,
                    round=round,
                    supplier=other,
                    checkpoint=self.checkpoint,
                    bags=1,
                )
            actions.shipment_dispatch(
                actor=self.sam,
                round=round,
                supplier=self.supplier,
                checkpoint=self.checkpoint,
                bags=1,
            )
            with self.assertRaises(ValidationError) as twice:
                actions.shipment_dispatch(
                    actor=self.sam,
                    round=round,
                    supplier=self.supplier,
                    checkpoint=self.checkpoint,
                    bags=1,
                )
            self.assertEqual(Shipment.objects.count(), 1)
        self.assertEqual(
            too_early.exception.message_dict["round"], ["轮次当前为“接单中”，截单分配后才能发货"]
        )
        self.assertEqual(no_bags.exception.message_dict["bags"], ["件数至少为 1"])
        self.assertEqual(
            nothing.exception.message_dict["checkpoint"], ["阳光小区东门卡口 没有另一家超市的订单"]
        )
        self.assertEqual(twice.exception.message_dict["checkpoint"], ["已向阳光小区东门卡口发过货"])

    def test_it_refuses_bundles_before_release(self) -> None:
        round, _zhang, _li = self.closed_round()
        with scopes_disabled():
            actions.shipment_dispatch(
                actor=self.sam,
                round=round,
                supplier=self.supplier,
                checkpoint=self.checkpoint,
                bags=3,
            )
            with self.assertRaises(ValidationError) as caught:
                actions.bundles_create(actor=self.carol, round=round, checkpoint=self.checkpoint)
            self.assertFalse(Task.objects.exists())
        self.assertEqual(caught.exception.messages, ["还有 2 户的货未放行，暂无可分拣的订单"])

    def test_it_bundles_a_big_building_by_unit(self) -> None:
        round, _zhang, _li, _shipment = self.released()
        with scopes_disabled():
            tasks = actions.bundles_create(
                actor=self.carol, round=round, checkpoint=self.checkpoint, max_households=0
            )
        self.assertEqual(
            sorted(t.place for t in tasks), ["阳光小区1号楼1单元", "阳光小区2号楼1单元"]
        )
        with scopes_disabled(), self.assertRaises(ValidationError) as again:
            actions.bundles_create(actor=self.carol, round=round, checkpoint=self.checkpoint)
        self.assertEqual(again.exception.messages, ["没有待分拣的订单"])


class FailedDoorTest(HandoffTestCase):
    def test_it_marks_the_order_failed_and_tells_the_grid_worker(self) -> None:
        round, zhang, _li, tasks = self.bundled()
        task = next(t for t in tasks if t.place == "阳光小区1号楼")
        self.start(task)
        with scopes_disabled():
            workforce.stop_fail(
                actor=self.volunteer.user, stop=self.stop_of(zhang), reason="家中无人"
            )
            actions.orders_sync_deliveries(round, actor=self.carol)
            order = Order.objects.get(pk=zhang.pk)
            told = list(Message.objects.filter(kind="task.stop_failed"))
            round.refresh_from_db()
        self.assertEqual((order.delivery_status, order.delivery_failure), ("failed", "家中无人"))
        self.assertEqual([m.to_user for m in told], [self.alice])
        self.assertIn("阳光小区1号楼1单元101", told[0].body)
        self.assertIn("家中无人", told[0].body)
        self.assertNotIn("张建国", told[0].body)
        self.assertEqual(round.status, RoundStatus.DISPATCHED)

    def test_it_reopens_a_task_whose_every_door_failed(self) -> None:
        _round, zhang, _li, tasks = self.bundled()
        task = next(t for t in tasks if t.place == "阳光小区1号楼")
        self.start(task)
        with scopes_disabled():
            workforce.stop_fail(
                actor=self.volunteer.user, stop=self.stop_of(zhang), reason="家中无人"
            )
            task.refresh_from_db()
            self.assertEqual(task.status, TaskStatus.FAILED)
            again = actions.order_redeliver(actor=self.carol, order=zhang)
            stop = self.stop_of(zhang)
            order = Order.objects.get(pk=zhang.pk)
        self.assertEqual((again.pk, again.status), (task.pk, TaskStatus.OPEN))
        self.assertEqual(stop.status, StopStatus.PENDING)
        self.assertEqual((order.delivery_status, order.delivery_failure), ("out_for_delivery", ""))

    def test_it_puts_a_failed_door_of_a_finished_task_on_a_new_task(self) -> None:
        _round, zhang, _li, tasks = self.bundled(with_zeng=True)
        task = next(t for t in tasks if t.place == "阳光小区1号楼")
        self.assertEqual(task.size, 3)
        self.start(task)
        with scopes_disabled():
            zeng_stop = TaskStop.objects.get(task=task, household_id=self.zeng.household_id)
            workforce.stop_fail(
                actor=self.volunteer.user, stop=self.stop_of(zhang), reason="地址有误"
            )
            workforce.stop_deliver(
                actor=self.volunteer.user, stop=zeng_stop, code=zeng_stop.door_code
            )
            task.refresh_from_db()
            self.assertEqual(task.status, TaskStatus.DONE)
            again = actions.order_redeliver(actor=self.carol, order=zhang)
            order = Order.objects.get(pk=zhang.pk)
            new_stops = list(TaskStop.objects.filter(task=again))
        self.assertNotEqual(again.pk, task.pk)
        self.assertEqual((again.status, again.size), (TaskStatus.OPEN, 2))
        self.assertEqual(
            [(s.household_id, s.items) for s in new_stops],
            [(self.zhang.household_id, "米面油套餐×1、蔬菜包×1")],
        )
        self.assertEqual(
            (order.delivery_status, order.task_stop_id), ("out_for_delivery", new_stops[0].pk)
        )
        self.assertEqual(self.statuses(self._zeng_order), ["delivered"])

    def test_it_refuses_to_redeliver_an_order_that_did_not_fail(self) -> None:
        _round, zhang, _li, _tasks = self.bundled()
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.order_redeliver(actor=self.carol, order=zhang)
        self.assertEqual(
            caught.exception.messages, ["只有未送达的订单可以重新配送（当前：配送中）"]
        )

    def test_it_puts_the_orders_of_a_cancelled_task_back_to_be_bundled(self) -> None:
        round, zhang, li, tasks = self.bundled()
        with scopes_disabled():
            for task in tasks:
                workforce.task_cancel(actor=self.carol, task=task, reason="改由物业配送")
            actions.orders_sync_deliveries(round)
            self.assertEqual(self.statuses(zhang, li), ["released", "released"])
            again = actions.bundles_create(
                actor=self.carol, round=round, checkpoint=self.checkpoint
            )
        self.assertEqual(len(again), 2)
        self.assertEqual(self.statuses(zhang, li), ["out_for_delivery", "out_for_delivery"])


class HandoffPageTest(HandoffTestCase):
    def test_it_lets_the_supplier_dispatch_from_its_own_page(self) -> None:
        round, zhang, _li = self.closed_round()
        self.login(self.sam)
        page = self.client.get(f"/rounds/{round.pk}/handoff/supplier/")
        self.assertContains(page, "阳光小区东门卡口")
        self.assertContains(page, "2 户，共 3 件")
        self.assertNotContains(page, "张建国")
        refused = self.client.post(
            f"/rounds/{round.pk}/handoff/dispatch/",
            {"checkpoint": self.checkpoint.pk, "bags": "很多"},
        )
        self.assertContains(refused, "件数：请填写整数", status_code=400)
        self.assertFalse(Shipment.objects.exists())
        done = self.client.post(
            f"/rounds/{round.pk}/handoff/dispatch/", {"checkpoint": self.checkpoint.pk, "bags": "3"}
        )
        self.assertEqual(done.status_code, 302)
        shipment = Shipment.objects.get()
        round.refresh_from_db()
        self.assertEqual((shipment.bags, shipment.dispatched_by), (3, self.sam))
        self.assertEqual(round.status, RoundStatus.DISPATCHED)
        self.assertEqual(self.statuses(zhang), ["dispatched"])
        # The round managers' page is not the supplier's.
        self.assertRedirects(
            self.client.get(f"/rounds/{round.pk}/handoff/"),
            f"/rounds/{round.pk}/handoff/supplier/",
        )

    def test_it_lets_the_keeper_receive_and_release_after_the_hold(self) -> None:
        round, zhang, _li = self.closed_round()
        with scopes_disabled():
            shipment = actions.shipment_dispatch(
                actor=self.sam,
                round=round,
                supplier=self.supplier,
                checkpoint=self.checkpoint,
                bags=3,
            )
        self.login(self.kate)
        page = self.client.get(f"/rounds/{round.pk}/handoff/")
        self.assertContains(page, "惠民生鲜配送")
        self.assertNotContains(page, "阳光小区1号楼1单元101")  # no addresses for a keeper
        url = f"/handoff/shipments/{shipment.pk}"
        self.assertEqual(self.client.post(f"{url}/receive/").status_code, 302)
        self.assertEqual(
            self.client.post(f"{url}/disinfect/", headers={"HX-Request": "true"}).status_code, 200
        )
        refused = self.client.post(f"{url}/release/", headers={"HX-Request": "true"})
        self.assertContains(refused, "静置未满", status_code=400)
        shipment.refresh_from_db()
        self.assertEqual(shipment.status, ShipmentStatus.RECEIVED)
        with time_machine.travel(timezone.now() + HOLD):
            self.client.logout()  # two idle hours sign one out
            self.login(self.kate)
            released = self.client.post(f"{url}/release/", headers={"HX-Request": "true"})
        self.assertContains(released, "已放行，可以分拣到楼栋")
        shipment.refresh_from_db()
        self.assertEqual(shipment.status, ShipmentStatus.RELEASED)
        self.assertEqual(self.statuses(zhang), ["released"])
        # Sorting into tasks is for the round's managers.
        bundles = f"/rounds/{round.pk}/handoff/checkpoints/{self.checkpoint.pk}/bundles/"
        self.assertEqual(self.client.post(bundles).status_code, 403)
        with scopes_disabled():
            self.assertFalse(Task.objects.exists())

    def test_it_bundles_and_shows_a_failed_door_with_a_retry(self) -> None:
        round, zhang, _li, _shipment = self.released()
        self.login(self.carol)
        bundles = f"/rounds/{round.pk}/handoff/checkpoints/{self.checkpoint.pk}/bundles/"
        response = self.client.post(bundles, headers={"HX-Request": "true"})
        self.assertContains(response, "已生成 2 个送货任务")
        with scopes_disabled():
            task = Task.objects.get(place="阳光小区1号楼")
        self.start(task)
        with scopes_disabled():
            workforce.stop_fail(
                actor=self.volunteer.user, stop=self.stop_of(zhang), reason="家中无人"
            )
        page = self.client.get(f"/rounds/{round.pk}/handoff/")
        self.assertContains(page, "阳光小区1号楼1单元101：家中无人")
        # The card's counts (made in the database): 2 households, 1 failed, 1 still out.
        self.assertContains(page, "共 2 户")
        for name, n in (("delivered", 0), ("failed", 1), ("out", 1), ("ready", 0), ("before", 0)):
            self.assertContains(page, f'<strong class="n-{name}">{n}</strong>', html=True)
        self.assertContains(page, f"/tasks/{task.pk}/")
        self.assertEqual(self.statuses(zhang), ["failed"])  # the page synced the doors
        retry = self.client.post(f"/handoff/orders/{zhang.pk}/redeliver/")
        self.assertEqual(retry.status_code, 302)
        task.refresh_from_db()
        self.assertEqual(task.status, TaskStatus.OPEN)
        self.assertEqual(self.statuses(zhang), ["out_for_delivery"])

    def test_it_hides_the_round_from_a_supplier_without_offers_and_a_keeper_without_goods(
        self,
    ) -> None:
        round, _zhang, _li = self.closed_round()
        self.login(self.kate)
        self.assertEqual(self.client.get(f"/rounds/{round.pk}/handoff/").status_code, 404)
        self.login(self.oscar)
        self.assertEqual(self.client.get(f"/rounds/{round.pk}/handoff/").status_code, 403)


class HandoffCommandTest(HandoffTestCase):
    def run_command(self, *args: str) -> str:
        out = io.StringIO()
        call_command("handoff", *args, stdout=out)
        return out.getvalue()

    def test_it_runs_the_chain_from_the_command_line(self) -> None:
        round, zhang, _li = self.closed_round()
        r = str(round.pk)
        cp = str(self.checkpoint.pk)
        with self.assertRaises(CommandError) as refused:
            self.run_command("dispatch", r, "--checkpoint", cp, "--bags", "3", "--actor", "kate")
        self.assertIn("未找到", str(refused.exception))
        self.run_command("dispatch", r, "--checkpoint", cp, "--bags", "3", "--actor", "sam")
        self.assertEqual(Shipment.objects.get().dispatched_by, self.sam)
        self.run_command("receive", r, "--checkpoint", cp, "--actor", "kate")
        self.run_command("disinfect", r, "--checkpoint", cp, "--actor", "kate")
        with self.assertRaises(CommandError) as held:
            self.run_command("release", r, "--checkpoint", cp, "--actor", "kate")
        self.assertIn("静置未满", str(held.exception))
        with time_machine.travel(timezone.now() + HOLD):
            self.run_command("release", r, "--checkpoint", cp, "--actor", "kate")
            self.assertEqual(self.statuses(zhang), ["released"])
            out = self.run_command("bundles", r, "--checkpoint", cp, "--actor", "carol")
            self.assertIn("已生成 2 个送货任务", out)
            self.assertEqual(self.statuses(zhang), ["out_for_delivery"])
            shown = self.run_command("show", r, "--actor", "carol")
        self.assertIn("阳光小区东门卡口", shown)
        self.assertIn("已生成配送任务", shown)
        self.assertIn("已同步", self.run_command("sync", r, "--actor", "carol"))
