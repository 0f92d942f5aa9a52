"""The hand-off chain through the REST API, asserting the database after every call."""

from __future__ import annotations

from typing import Any

import time_machine
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints.choices import GoodsStatus
from linli.registry.tests.test_api import ApiTestCase
from linli.supply.choices import RoundStatus, ShipmentStatus
from linli.supply.models import Order, Shipment
from linli.supply.tests.test_handoff import HOLD, HandoffTestCase
from linli.test import make_user
from linli.workforce import actions as workforce
from linli.workforce.choices import TaskStatus
from linli.workforce.models import Task


class HandoffApiTest(HandoffTestCase, ApiTestCase):
    def post(self, user: User | None, path: str, body: Any = None) -> Any:
        return self.call(user, "POST", path, {} if body is None else body)

    def test_it_runs_the_whole_chain(self) -> None:
        round, zhang, li = self.closed_round()
        dispatch = f"/api/v1/rounds/{round.pk}/shipments"
        body = {"supplier_id": self.supplier.pk, "checkpoint_id": self.checkpoint.pk, "bags": 3}

        self.assert_error(self.post(self.sam, dispatch, body | {"bags": 0}), 400, bags="不能小于 1")
        stranger = make_user("sara", Role.SUPPLIER)
        self.assertEqual(self.post(stranger, dispatch, body).status_code, 404)
        self.assertEqual(self.post(self.kate, dispatch, body).status_code, 404)
        self.assertFalse(Shipment.objects.exists())

        response = self.post(self.sam, dispatch, body)
        self.assertEqual(response.status_code, 201, response.content)
        shipment = Shipment.objects.get()
        round.refresh_from_db()
        self.assertEqual(response.json()["status_label"], "已发货")
        self.assertEqual((shipment.bags, shipment.dispatched_by), (3, self.sam))
        self.assertEqual(round.status, RoundStatus.DISPATCHED)
        self.assertEqual(self.statuses(zhang, li), ["dispatched", "dispatched"])
        self.assert_error(self.post(self.sam, dispatch, body), 400, checkpoint_id="已向")

        url = f"/api/v1/shipments/{shipment.pk}"
        self.assertEqual(self.post(self.sam, f"{url}/receive").status_code, 404)
        response = self.post(self.kate, f"{url}/receive")
        self.assertEqual(response.status_code, 200, response.content)
        shipment.refresh_from_db()
        self.assertEqual(shipment.status, ShipmentStatus.RECEIVED)
        self.assertIsNotNone(shipment.goods)
        self.assertEqual(self.statuses(zhang), ["at_checkpoint"])

        self.assertEqual(self.post(self.kate, f"{url}/disinfect").status_code, 200)
        response = self.post(self.kate, f"{url}/release")
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("静置未满", response.json()["errors"][0]["message"])
        self.assertEqual(self.statuses(zhang), ["at_checkpoint"])

        with time_machine.travel(timezone.now() + HOLD):
            self.tokens.clear()
            response = self.post(self.kate, f"{url}/release")
            self.assertEqual(response.status_code, 200, response.content)
            self.assertEqual(response.json()["goods_status"], GoodsStatus.RELEASED)
            self.assertEqual(response.json()["minutes_left"], 0)
            self.assertEqual(self.statuses(zhang, li), ["released", "released"])

            bundles = f"/api/v1/rounds/{round.pk}/checkpoints/{self.checkpoint.pk}/bundles"
            self.assertEqual(self.post(self.kate, bundles).status_code, 403)
            response = self.post(self.carol, bundles)
            self.assertEqual(response.status_code, 201, response.content)
            self.assertEqual(
                sorted((t["place"], t["size"]) for t in response.json()),
                [("阳光小区1号楼", 2), ("阳光小区2号楼", 1)],
            )
            self.assertEqual(self.statuses(zhang, li), ["out_for_delivery", "out_for_delivery"])
            self.assert_error(self.post(self.carol, bundles), 400, checkpoint_id="没有待分拣")

            with scopes_disabled():
                tasks = {t.place: t for t in Task.objects.all()}
            for task in tasks.values():
                self.start(task)
            with scopes_disabled():
                workforce.stop_fail(
                    actor=self.volunteer.user, stop=self.stop_of(zhang), reason="家中无人"
                )
                workforce.stop_left_at_door(actor=self.volunteer.user, stop=self.stop_of(li))

            response = self.get(self.carol, f"/api/v1/rounds/{round.pk}/handoff")
            self.assertEqual(response.status_code, 200, response.content)
            [card] = response.json()["checkpoints"]
            self.assertEqual(card["by_status"]["failed"], 1)
            self.assertEqual(card["by_status"]["delivered"], 1)
            self.assertEqual(
                [(f["address"], f["reason"]) for f in card["failed"]],
                [("阳光小区1号楼1单元101", "家中无人")],
            )
            keeper_view = self.get(self.kate, f"/api/v1/rounds/{round.pk}/handoff").json()
            self.assertEqual(keeper_view["checkpoints"][0]["failed"], [])
            self.assertEqual(self.statuses(zhang), ["failed"])

            response = self.post(self.alice, f"/api/v1/orders/{zhang.pk}/redeliver")
            self.assertEqual(response.status_code, 200, response.content)
            self.assertEqual(response.json()["delivery_status"], "out_for_delivery")
            task = tasks["阳光小区1号楼"]
            task.refresh_from_db()
            self.assertEqual(task.status, TaskStatus.OPEN)

            with scopes_disabled():
                task = workforce.task_take(volunteer=self.volunteer, task=task)
                workforce.task_start(actor=self.volunteer.user, task=task)
                stop = self.stop_of(zhang)
                workforce.stop_deliver(actor=self.volunteer.user, stop=stop, code=stop.door_code)
            response = self.post(self.carol, f"/api/v1/rounds/{round.pk}/handoff/sync")
            self.assertEqual(response.json()["round_status"], RoundStatus.DELIVERED)
            round.refresh_from_db()
            self.assertEqual(round.status, RoundStatus.DELIVERED)

            response = self.get(self.alice, f"/api/v1/orders/{zhang.pk}/delivery")
            self.assertEqual(response.status_code, 200, response.content)
            self.assertEqual(response.json()["delivery_status_label"], "已送达")
            self.assertEqual(
                self.get(self.bob, f"/api/v1/orders/{zhang.pk}/delivery").status_code, 404
            )
        with scopes_disabled():
            self.assertEqual(Order.objects.get(pk=zhang.pk).get_delivery_status_display(), "已送达")

    def test_it_lists_a_suppliers_own_shipments_only(self) -> None:
        round, _zhang, _li = self.closed_round()
        self.post(
            self.carol,
            f"/api/v1/rounds/{round.pk}/shipments",
            {"supplier_id": self.supplier.pk, "checkpoint_id": self.checkpoint.pk, "bags": 2},
        )
        mine = self.get(self.sam, f"/api/v1/rounds/{round.pk}/shipments").json()
        self.assertEqual([(s["supplier"]["name"], s["bags"]) for s in mine], [("惠民生鲜配送", 2)])
        self.assertEqual(Shipment.objects.get().dispatched_by, self.carol)
        other = make_user("sara", Role.SUPPLIER)
        self.assertEqual(self.get(other, f"/api/v1/rounds/{round.pk}/shipments").status_code, 404)
