"""Orders in the REST API: placing with an Idempotency-Key, changing, cancelling, where an order
is; a resident for their own household only; a supplier sees masked names and its own items."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.supply import actions
from linli.supply.actions import ItemInput
from linli.supply.choices import Category, Channel, DeliveryStatus, OrderStatus, Payment
from linli.supply.models import Offer, Order, SupplyRound
from linli.supply.tests.base import SupplyTestCase, make_package, make_supplier


class OrderApiTestCase(SupplyTestCase):
    def setUp(self) -> None:
        self.tokens: dict[int, str] = {}

    def call(self, user: User, method: str, path: str, body: Any = None, **headers: str) -> Any:
        if user.pk not in self.tokens:
            self.tokens[user.pk] = ApiToken.issue(user)
        headers["Authorization"] = f"Bearer {self.tokens[user.pk]}"
        send = getattr(self.client, method.lower())
        if body is None:
            return send(path, headers=headers)
        return send(path, data=json.dumps(body), content_type="application/json", headers=headers)

    def place(self, user: User, round: SupplyRound, attr: str, items: Any, **headers: str) -> Any:
        body = {
            "household_id": self.home(attr).pk,
            "items": [{"offer_id": o.pk, "quantity": n} for o, n in items],
        }
        return self.call(user, "POST", f"/api/v1/rounds/{round.pk}/orders", body, **headers)

    def fails(self, response: Any, status: int, field: str, text: str) -> None:
        self.assertEqual(response.status_code, status, response.content.decode())
        reasons = {e["field"]: e["message"] for e in response.json()["errors"]}
        self.assertIn(text, reasons.get(field, ""), reasons)

    def orders(self) -> list[Order]:
        with scopes_disabled():
            return list(Order.objects.select_related("placed_by").order_by("pk"))


class OrderApiTest(OrderApiTestCase):
    def test_it_places_a_proxy_order_and_replays_the_same_key_as_the_same_order(self) -> None:
        round, veg, rice = self.open_round(stock=5)
        first = self.place(
            self.alice, round, "zhang", [(veg, 2), (rice, 1)], **{"Idempotency-Key": "6am-1"}
        )
        self.assertEqual(first.status_code, 201, first.content.decode())
        again = self.place(
            self.alice, round, "zhang", [(veg, 2), (rice, 1)], **{"Idempotency-Key": "6am-1"}
        )
        self.assertEqual(again.status_code, 200, again.content.decode())
        self.assertEqual(first.json()["id"], again.json()["id"])
        [order] = self.orders()
        self.assertEqual((order.channel, order.placed_by), (Channel.PROXY, self.alice))
        self.assertEqual(order.idempotency_key, "6am-1")
        veg.refresh_from_db()
        self.assertEqual(veg.remaining, 3)
        body = first.json()
        self.assertEqual(body["placed_by"], "alice")
        self.assertEqual(body["total_fen"], 2 * 4800 + 9900)
        self.assertEqual(body["pickup_code"], order.pickup_code)
        self.assertEqual(
            sorted((i["package_name"], i["quantity"]) for i in body["items"]),
            [("米面油套餐", 1), ("蔬菜包", 2)],
        )

    def test_it_refuses_a_key_used_for_another_household(self) -> None:
        round, veg, _rice = self.open_round()
        self.place(self.alice, round, "zhang", [(veg, 1)], **{"Idempotency-Key": "k1"})
        response = self.place(self.alice, round, "zeng", [(veg, 1)], **{"Idempotency-Key": "k1"})
        self.fails(response, 400, "idempotency_key", "该请求编号已用于另一个订单")
        self.assertEqual(len(self.orders()), 1)

    def test_it_says_every_refusal_in_chinese_with_a_400_and_writes_nothing(self) -> None:
        round, veg, rice = self.open_round(stock=1, limit=1)
        self.place(self.carol, round, "zhang", [(veg, 1)])
        cases = [
            ("zeng", [(rice, 1), (veg, 1)], "items", "蔬菜包 已售罄"),
            ("zeng", [(rice, 2)], "items", "米面油套餐 超过每户限购 1 份"),
            ("zeng", [(rice, 0)], "items.0.quantity", "不能小于 1"),
            ("zhang", [(rice, 1)], "household", "该户本轮已有订单"),
        ]
        for attr, items, field, text in cases:
            with self.subTest(text):
                self.fails(self.place(self.carol, round, attr, items), 400, field, text)
        _other, other_veg, _ = self.open_round()
        self.fails(
            self.place(self.carol, round, "zeng", [(other_veg, 1)]), 400, "items", "不在本轮供应中"
        )
        body = {"household_id": self.home("zeng").pk, "items": [], "payment": "cash"}
        response = self.call(self.carol, "POST", f"/api/v1/rounds/{round.pk}/orders", body)
        self.fails(response, 400, "payment", "取值无效")
        self.assertEqual(len(self.orders()), 1)
        rice.refresh_from_db()
        self.assertEqual(rice.remaining, 1)

    def test_it_refuses_after_close_and_outside_the_rounds_scope(self) -> None:
        round, veg, _rice = self.open_round()
        self.fails(
            self.place(self.dave, round, "zhao", [(veg, 1)]),
            400,
            "household",
            "星河湾1号楼1单元101 不在本轮供应范围内",
        )
        with time_machine.travel(round.closes_at + dt.timedelta(seconds=1)):
            self.fails(
                self.place(self.carol, round, "zhang", [(veg, 1)]), 400, "round", "本轮已截单"
            )
        self.assertEqual(self.orders(), [])

    def test_it_lets_a_resident_order_for_their_own_household_only(self) -> None:
        round, veg, _rice = self.open_round()
        other = self.place(self.rita_user, round, "zhang", [(veg, 1)])
        self.assertEqual(other.status_code, 404, other.content.decode())
        own = self.place(self.rita_user, round, "zeng", [(veg, 1)])
        self.assertEqual(own.status_code, 201, own.content.decode())
        [order] = self.orders()
        self.assertEqual(
            (order.household_id, order.channel), (self.zeng.household_id, Channel.RESIDENT)
        )
        with scopes_disabled():
            theirs = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1)],
            )
        for method in ("GET", "PATCH", "DELETE"):
            with self.subTest(method):
                body = {"payment": "online"} if method == "PATCH" else None
                response = self.call(self.rita_user, method, f"/api/v1/orders/{theirs.pk}", body)
                self.assertEqual(response.status_code, 404)
        listed = self.call(self.rita_user, "GET", f"/api/v1/rounds/{round.pk}/orders").json()
        self.assertEqual([o["id"] for o in listed["items"]], [order.pk])

    def test_it_keeps_a_grid_worker_to_their_grid(self) -> None:
        round, veg, _rice = self.open_round()
        self.assertEqual(self.place(self.alice, round, "li", [(veg, 1)]).status_code, 404)
        self.place(self.bob, round, "li", [(veg, 1)])
        self.place(self.alice, round, "zhang", [(veg, 1)])
        listed = self.call(self.alice, "GET", f"/api/v1/rounds/{round.pk}/orders").json()
        self.assertEqual([o["address"] for o in listed["items"]], ["阳光小区1号楼1单元101"])

    def test_it_refuses_roles_that_do_not_order(self) -> None:
        round, veg, _rice = self.open_round()
        for user in (self.victor, self.kate, self.sam):
            with self.subTest(user.username):
                self.assertEqual(self.place(user, round, "zhang", [(veg, 1)]).status_code, 403)

    def test_it_changes_items_and_payment_and_cancels(self) -> None:
        round, veg, rice = self.open_round(stock=5)
        order_id = self.place(self.olivia, round, "zeng", [(veg, 2)]).json()["id"]
        response = self.call(
            self.olivia,
            "PATCH",
            f"/api/v1/orders/{order_id}",
            {"items": [{"offer_id": rice.pk, "quantity": 1}], "payment": "online"},
        )
        self.assertEqual(response.status_code, 200, response.content.decode())
        self.assertEqual(response.json()["payment"], Payment.ONLINE)
        veg.refresh_from_db()
        rice.refresh_from_db()
        self.assertEqual((veg.remaining, rice.remaining), (5, 4))
        response = self.call(
            self.olivia, "PATCH", f"/api/v1/orders/{order_id}", {"payment": "free"}
        )
        self.assertEqual(response.json()["items"][0]["package_name"], "米面油套餐")
        self.assertEqual(self.orders()[0].payment, Payment.FREE)
        response = self.call(
            self.olivia,
            "PATCH",
            f"/api/v1/orders/{order_id}",
            {"items": [{"offer_id": rice.pk, "quantity": 9}]},
        )
        self.fails(response, 400, "items", "米面油套餐 超过每户限购 2 份")
        response = self.call(self.olivia, "DELETE", f"/api/v1/orders/{order_id}")
        self.assertEqual(response.json()["status"], OrderStatus.CANCELLED)
        rice.refresh_from_db()
        self.assertEqual(rice.remaining, 5)
        response = self.call(self.olivia, "DELETE", f"/api/v1/orders/{order_id}")
        self.fails(response, 400, "status", "订单已取消")

    def test_it_tells_the_household_where_its_order_is(self) -> None:
        round, veg, _rice = self.open_round()
        order_id = self.place(self.rita_user, round, "zeng", [(veg, 1)]).json()["id"]
        with scopes_disabled():
            Order.objects.filter(pk=order_id).update(
                delivery_status=DeliveryStatus.FAILED, delivery_failure="家中无人"
            )
        body = self.call(self.rita_user, "GET", f"/api/v1/orders/{order_id}/status").json()
        self.assertEqual(body["delivery_status_label"], "未送达")
        self.assertEqual(body["delivery_failure"], "家中无人")
        self.assertEqual(len(body["pickup_code"]), 6)


class SupplierViewTest(OrderApiTestCase):
    def test_it_shows_a_supplier_masked_names_and_its_own_items_only(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            other = make_supplier(self.street.pk, "另一家")
            eggs = make_package(other, "鸡蛋", Category.EGGS, 1500, 1200)
            egg_offer = actions.offer_add(actor=self.carol, round=round, package=eggs, stock=5)
        self.supplier.accounts.add(self.sam)
        self.place(self.alice, round, "zhang", [(veg, 1), (egg_offer, 1)])
        self.place(self.alice, round, "zeng", [(egg_offer, 1)])  # none of sam's offers
        response = self.call(self.sam, "GET", f"/api/v1/rounds/{round.pk}/orders")
        self.assertEqual(response.status_code, 200, response.content.decode())
        text = response.content.decode()
        body = response.json()
        self.assertEqual(body["count"], 1)
        [order] = body["items"]
        self.assertEqual(order["name_masked"], "张**")
        self.assertEqual(order["address"], "阳光小区1号楼1单元101")
        self.assertEqual([i["package_name"] for i in order["items"]], ["蔬菜包"])
        self.assertIsNone(order["pickup_code"])
        self.assertIsNone(order["placed_by"])
        for secret in ("张建国", "13812348000", "8000", "lives_alone", "独居", "高血压", "曾小明"):
            self.assertNotIn(secret, text)
        detail = self.call(self.sam, "GET", f"/api/v1/orders/{order['id']}").json()
        self.assertEqual(detail["name_masked"], "张**")
        zeng_order = self.orders()[1]
        response = self.call(self.sam, "GET", f"/api/v1/orders/{zeng_order.pk}")
        self.assertEqual(response.status_code, 404)
        response = self.call(
            self.sam, "PATCH", f"/api/v1/orders/{order['id']}", {"payment": "free"}
        )
        self.assertEqual(response.status_code, 403)

    def test_it_places_an_order_in_a_fixed_number_of_queries(self) -> None:
        round, veg, rice = self.open_round(stock=50)
        self.place(self.alice, round, "zeng", [(veg, 1)])  # token issued, caches warm
        with CaptureQueriesContext(connection) as one:
            self.place(self.alice, round, "zhang", [(veg, 1)], **{"Idempotency-Key": "q-1"})
        with scopes_disabled():
            Order.objects.all().delete()
        Offer.objects.filter(round=round).update(remaining=50)
        with CaptureQueriesContext(connection) as two:
            self.place(
                self.alice, round, "zhang", [(veg, 2), (rice, 2)], **{"Idempotency-Key": "q-2"}
            )
        self.assertLessEqual(len(one), 20, "\n".join(q["sql"] for q in one.captured_queries))
        self.assertEqual(len(two), len(one) + 1)  # one more stock UPDATE for the second offer

    def test_it_lists_a_rounds_orders_without_a_query_per_order(self) -> None:
        round, veg, _rice = self.open_round(stock=50)
        self.place(self.carol, round, "zhang", [(veg, 1)])
        with CaptureQueriesContext(connection) as few:
            self.call(self.carol, "GET", f"/api/v1/rounds/{round.pk}/orders")
        for attr in ("zeng", "li", "wang"):
            self.place(self.carol, round, attr, [(veg, 1)])
        with CaptureQueriesContext(connection) as more:
            body = self.call(self.carol, "GET", f"/api/v1/rounds/{round.pk}/orders").json()
        self.assertEqual(body["count"], 4)
        self.assertEqual(len(more), len(few))


class BusyDatabaseTest(SupplyTestCase):
    def test_it_answers_503_with_retry_after_when_the_database_is_busy(self) -> None:
        from django.db import OperationalError

        from linli.api import api

        request = self.client.get("/").wsgi_request
        response = api.on_exception(request, OperationalError("database is locked"))
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "2")
        self.assertIn("同一请求编号", response.content.decode())
