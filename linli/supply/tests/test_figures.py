"""Figures: kg and value equal the sum over delivered items; settlement per supplier."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_scopes import scopes_disabled

from linli.supply import actions, figures
from linli.supply.actions import ItemInput
from linli.supply.choices import Category, DeliveryStatus, Payment
from linli.supply.models import Order, OrderItem
from linli.supply.tests.base import SupplyTestCase


class SummaryTest(SupplyTestCase):
    def test_it_counts_kg_and_value_of_delivered_items_only(self) -> None:
        round, veg, rice = self.open_round(stock=20, limit=3)
        with scopes_disabled():
            orders = [
                actions.order_place(
                    actor=self.carol,
                    round=round,
                    household=self.home(attr),
                    items=items,
                    payment=payment,
                )
                for attr, items, payment in (
                    ("zhang", [ItemInput(veg, 2), ItemInput(rice, 1)], Payment.ON_DELIVERY),
                    ("zeng", [ItemInput(veg, 1)], Payment.ONLINE),
                    ("li", [ItemInput(rice, 3)], Payment.ON_DELIVERY),
                )
            ]
            now = timezone.now()
            Order.objects.filter(pk__in=[orders[0].pk, orders[1].pk]).update(
                delivery_status=DeliveryStatus.DELIVERED, delivery_status_at=now
            )
            Order.objects.filter(pk=orders[2].pk).update(
                delivery_status=DeliveryStatus.FAILED, delivery_status_at=now
            )
            result = figures.summary(Order.objects.filter(round=round))
            delivered = OrderItem.objects.filter(order__delivery_status=DeliveryStatus.DELIVERED)
            grams = sum(i.allocated * i.net_weight_g for i in delivered if i.allocated)
            fen = sum(i.allocated * i.price_fen for i in delivered if i.allocated)
            sheet = figures.settlement(Order.objects.filter(round=round), self.supplier.pk)
        self.assertEqual((result.orders, result.delivered, result.failed), (3, 2, 1))
        self.assertEqual(result.households_reached, 2)
        self.assertEqual(result.kg, round_kg(grams))
        self.assertEqual(result.fen, fen)
        self.assertEqual(
            [(r.category, r.units, r.grams) for r in result.categories],
            [(Category.GRAIN_OIL, 1, 10000), (Category.VEGETABLES, 3, 15000)],
        )
        self.assertEqual(result.days[0].day, timezone.localdate())
        self.assertEqual((result.days[0].placed, result.days[0].delivered), (3, 2))
        self.assertEqual(
            [(r.payment, r.orders, r.units, r.fen) for r in sheet],
            [("on_delivery", 2, 6, 2 * 4800 + 4 * 9900), ("online", 1, 1, 4800)],
        )
        self.assertEqual(
            [(c.community, c.orders, c.delivered, c.grams) for c in result.communities],
            [("阳光社区", 3, 2, grams)],
        )
        self.assertIsNone(result.delivery_minutes_median)  # nothing went through a checkpoint
        self.assertIsInstance(result.days[0].day, dt.date)


def round_kg(grams: int) -> float:
    return round(grams / 1000, 1)


class FiguresFrontEndsTest(SupplyTestCase):
    def test_it_shows_the_figures_to_round_managers_only(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            order = actions.order_place(
                actor=self.carol,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 2)],
            )
            Order.objects.filter(pk=order.pk).update(delivery_status=DeliveryStatus.DELIVERED)
        self.login(self.carol)
        response = self.client.get(f"/supply/figures/?round={round.pk}")
        self.assertContains(response, "¥96.00")
        self.assertContains(response, "10.0 kg")
        self.assertContains(response, "蔬菜")
        for user in (self.alice, self.victor, self.sam, self.rita_user):
            self.login(user)
            self.assertEqual(self.client.get("/supply/figures/").status_code, 403, user)

    def test_it_answers_the_api_with_grams_and_fen(self) -> None:
        from linli.accounts.models import ApiToken

        round, veg, rice = self.open_round()
        with scopes_disabled():
            order = actions.order_place(
                actor=self.carol,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1), ItemInput(rice, 1)],
            )
            Order.objects.filter(pk=order.pk).update(delivery_status=DeliveryStatus.DELIVERED)
        token = ApiToken.issue(self.dave)
        body = self.client.get(
            "/api/v1/supply/figures", headers={"Authorization": f"Bearer {token}"}
        ).json()
        self.assertEqual((body["orders"], body["delivered"]), (1, 1))
        self.assertEqual((body["grams"], body["fen"]), (15000, 4800 + 9900))
        bad = self.client.get(
            "/api/v1/supply/figures?since=yesterday", headers={"Authorization": f"Bearer {token}"}
        )
        self.assertEqual(bad.status_code, 400)

    def test_it_shows_a_supplier_its_own_settlement_sheet_only(self) -> None:
        from linli.supply.tests.base import make_package, make_supplier
        from linli.test import make_user

        round, veg, _rice = self.open_round()
        other = make_supplier(self.street.pk, "江桥批发市场")
        fruit = make_package(other, "水果箱", Category.FRUIT, 3000, 3500)
        with scopes_disabled():
            fruit_offer = actions.offer_add(actor=self.carol, round=round, package=fruit, stock=5)
            actions.order_place(
                actor=self.carol,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1), ItemInput(fruit_offer, 1)],
            )
        account = make_user("huimin", "supplier")
        self.supplier.accounts.add(account)
        self.login(account)
        response = self.client.get(f"/rounds/{round.pk}/settlement/")
        self.assertContains(response, "惠民生鲜配送")
        self.assertContains(response, "¥48.00")
        self.assertNotContains(response, "江桥批发市场")
        self.assertNotContains(response, "张建国")
        self.login(self.carol)
        self.assertContains(self.client.get(f"/rounds/{round.pk}/settlement/"), "江桥批发市场")


class FiguresCommandTest(SupplyTestCase):
    def test_it_prints_the_figures_and_refuses_a_volunteer(self) -> None:
        import io

        from django.core.management import call_command
        from django.core.management.base import CommandError

        round, veg, _rice = self.open_round()
        with scopes_disabled():
            order = actions.order_place(
                actor=self.carol,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 2)],
            )
            Order.objects.filter(pk=order.pk).update(delivery_status=DeliveryStatus.DELIVERED)
        out = io.StringIO()
        call_command(
            "supply-figures", "show", "--round", str(round.pk), "--actor", "carol", stdout=out
        )
        self.assertIn("10.0 kg", out.getvalue())
        self.assertIn("¥96.00", out.getvalue())
        out = io.StringIO()
        call_command("supply-figures", "settlement", str(round.pk), "--actor", "dave", stdout=out)
        self.assertIn("惠民生鲜配送", out.getvalue())
        with self.assertRaisesMessage(CommandError, "无权"):
            call_command("supply-figures", "show", "--actor", "victor", stdout=io.StringIO())
