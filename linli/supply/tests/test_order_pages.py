"""代下单 pages: a grid worker, operator or community staff finds a household of their area and
places, changes or cancels its order; every refusal is a 400 in Chinese with nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django_scopes import scopes_disabled

from linli.supply.choices import Channel, Intake, OrderStatus, Payment
from linli.supply.models import Offer, Order, SupplyRound
from linli.supply.tests.base import SupplyTestCase


class ProxyOrderPageTest(SupplyTestCase):
    def household_url(self, round: SupplyRound, attr: str) -> str:
        return f"/rounds/{round.pk}/proxy/{self.home(attr).pk}/"

    def post_order(self, round: SupplyRound, attr: str, **quantities: Any) -> Any:
        data = {"payment": quantities.pop("payment", Payment.ON_DELIVERY)}
        data.update({f"q_{offer.pk}": n for offer, n in quantities.pop("items", [])})
        return self.client.post(self.household_url(round, attr), data)

    def orders(self) -> list[Order]:
        with scopes_disabled():
            return list(Order.objects.select_related("placed_by").order_by("pk"))

    def remaining(self, offer: Offer) -> int:
        offer.refresh_from_db()
        return offer.remaining

    def test_it_places_a_proxy_order_recording_who_placed_it(self) -> None:
        round, veg, rice = self.open_round(stock=5)
        self.login(self.alice)
        response = self.post_order(round, "zhang", items=[(veg, 2), (rice, 1)])
        self.assertRedirects(response, self.household_url(round, "zhang"))
        [order] = self.orders()
        self.assertEqual(order.household_id, self.zhang.household_id)
        self.assertEqual((order.channel, order.placed_by), (Channel.PROXY, self.alice))
        self.assertEqual(order.payment, Payment.ON_DELIVERY)
        with scopes_disabled():
            self.assertEqual(
                sorted(order.items.values_list("offer__package__name", "quantity")),
                [("米面油套餐", 1), ("蔬菜包", 2)],
            )
        self.assertEqual((self.remaining(veg), self.remaining(rice)), (3, 4))
        page = self.client.get(self.household_url(round, "zhang"))
        self.assertContains(page, "代下单")
        self.assertContains(page, order.pickup_code)
        self.assertContains(page, "alice")

    def test_it_changes_quantities_and_payment_then_cancels(self) -> None:
        round, veg, rice = self.open_round(stock=5)
        self.login(self.olivia)  # the hotline operator, for a caller
        self.post_order(round, "zeng", items=[(veg, 2)])
        response = self.post_order(round, "zeng", items=[(veg, 1), (rice, 2)], payment="online")
        self.assertEqual(response.status_code, 302)
        [order] = self.orders()
        self.assertEqual(order.payment, Payment.ONLINE)
        self.assertEqual((self.remaining(veg), self.remaining(rice)), (4, 3))
        response = self.client.post(self.household_url(round, "zeng") + "cancel/")
        self.assertEqual(response.status_code, 302)
        [order] = self.orders()
        self.assertEqual(order.status, OrderStatus.CANCELLED)
        self.assertEqual(order.cancelled_by, self.olivia)
        self.assertEqual((self.remaining(veg), self.remaining(rice)), (5, 5))

    def test_it_says_sold_out_with_a_400_and_writes_nothing(self) -> None:
        round, veg, rice = self.open_round(stock=1)
        self.login(self.carol)
        self.post_order(round, "zhang", items=[(veg, 1)])
        response = self.post_order(round, "zeng", items=[(rice, 1), (veg, 1)])
        self.assertContains(response, "蔬菜包 已售罄", status_code=400)
        self.assertEqual(len(self.orders()), 1)
        self.assertEqual(self.remaining(rice), 1)

    def test_it_refuses_over_the_limit_and_a_bad_quantity(self) -> None:
        round, veg, _rice = self.open_round(limit=2)
        self.login(self.alice)
        response = self.post_order(round, "zhang", items=[(veg, 3)])
        self.assertContains(response, "蔬菜包 超过每户限购 2 份", status_code=400)
        response = self.post_order(round, "zhang", items=[(veg, "两份")])
        self.assertContains(response, "蔬菜包：数量应为整数", status_code=400)
        response = self.post_order(round, "zhang", items=[(veg, 0)])
        self.assertContains(response, "请至少选择一个套餐包", status_code=400)
        response = self.post_order(round, "zhang", items=[(veg, 1)], payment="cash")
        self.assertContains(response, "请选择付款方式", status_code=400)
        self.assertEqual(self.orders(), [])

    def test_it_refuses_after_the_window_closes(self) -> None:
        round, veg, _rice = self.open_round()
        self.login(self.alice)
        self.post_order(round, "zhang", items=[(veg, 1)])
        with time_machine.travel(round.closes_at + dt.timedelta(minutes=1)):
            self.client.logout()  # hours later: signed in afresh (idle logout)
            self.login(self.alice)
            response = self.post_order(round, "zeng", items=[(veg, 1)])
            self.assertContains(response, "本轮已截单", status_code=400)
            response = self.client.post(self.household_url(round, "zhang") + "cancel/")
            self.assertContains(response, "本轮已截单", status_code=400)
        [order] = self.orders()
        self.assertEqual(order.status, OrderStatus.PLACED)

    def test_it_refuses_a_household_outside_the_round(self) -> None:
        round, veg, _rice = self.open_round()  # 阳光社区 only
        self.login(self.dave)  # the street admin sees 星河社区 too
        page = self.client.get(self.household_url(round, "zhao"))
        self.assertContains(page, "不在本轮供应范围内")
        response = self.post_order(round, "zhao", items=[(veg, 1)])
        self.assertContains(response, "星河湾1号楼1单元101 不在本轮供应范围内", status_code=400)
        self.assertEqual(self.orders(), [])

    def test_it_keeps_a_grid_worker_to_their_grid(self) -> None:
        round, veg, _rice = self.open_round()
        self.login(self.alice)
        self.assertEqual(self.client.get(self.household_url(round, "li")).status_code, 404)
        self.assertEqual(self.post_order(round, "li", items=[(veg, 1)]).status_code, 404)
        self.assertEqual(self.orders(), [])

    def test_it_finds_households_by_pinyin_phone_tail_and_address_in_the_area(self) -> None:
        round, _veg, _rice = self.open_round()
        self.login(self.alice)
        for text in ("zjg", "8000", "1号楼1单元101", "张建"):
            with self.subTest(text):
                page = self.client.get(f"/rounds/{round.pk}/proxy/", {"q": text})
                self.assertContains(page, self.household_url(round, "zhang"))
        page = self.client.get(f"/rounds/{round.pk}/proxy/", {"q": "李秀英"})
        self.assertNotContains(page, self.household_url(round, "li"))
        partial = self.client.get(
            f"/rounds/{round.pk}/proxy/", {"q": "zjg"}, headers={"HX-Request": "true"}
        )
        self.assertNotContains(partial, "<html")
        self.assertContains(partial, "张建国")

    def test_it_lists_open_rounds_and_shows_who_ordered(self) -> None:
        round, veg, _rice = self.open_round()
        self.login(self.carol)
        self.assertContains(self.client.get("/orders/"), f"/rounds/{round.pk}/proxy/")
        self.post_order(round, "zhang", items=[(veg, 1)])
        page = self.client.get(f"/rounds/{round.pk}/proxy/")
        self.assertContains(page, "阳光小区1号楼1单元101")
        self.assertContains(page, "代下单 · carol")

    def test_it_shows_remaining_stock_in_first_come_rounds_only(self) -> None:
        round, _veg, _rice = self.open_round(stock=7, limit=3)
        self.login(self.alice)
        page = self.client.get(self.household_url(round, "zhang"))
        self.assertContains(page, "剩余 7 份")
        self.assertContains(page, "每户限购 3 份")
        fair, _veg, _rice = self.open_round(intake=Intake.FAIR, stock=7)
        page = self.client.get(self.household_url(fair, "zhang"))
        self.assertNotContains(page, "剩余 7 份")

    def test_it_lets_only_those_who_order_for_others_in(self) -> None:
        round, _veg, _rice = self.open_round()
        for user in (self.victor, self.sam, self.kate, self.rita_user):
            with self.subTest(user.username):
                self.login(user)
                self.assertEqual(
                    self.client.get(self.household_url(round, "zhang")).status_code, 403
                )
                self.assertEqual(self.client.get(f"/rounds/{round.pk}/proxy/").status_code, 403)

    def test_it_makes_one_order_of_a_double_tap(self) -> None:
        round, veg, _rice = self.open_round(stock=5)
        self.login(self.alice)
        data = {"payment": "on_delivery", f"q_{veg.pk}": 1, "key": "tap-1"}
        first = self.client.post(self.household_url(round, "zhang"), data)
        again = self.client.post(self.household_url(round, "zhang"), data)
        self.assertEqual((first.status_code, again.status_code), (302, 302))
        self.assertEqual(len(self.orders()), 1)
        self.assertEqual(self.remaining(veg), 4)
