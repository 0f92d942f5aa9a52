"""`linli orders`: list, place (代下单 with --actor), change, cancel and status, with the same
access and the same Chinese refusals as the pages and the API."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from linli.supply.choices import Channel, DeliveryStatus, OrderStatus, Payment
from linli.supply.models import Order
from linli.supply.tests.base import SupplyTestCase


def run(*args: str) -> str:
    out = StringIO()
    call_command("orders", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


class OrdersCommandTest(SupplyTestCase):
    def orders(self) -> list[Order]:
        with scopes_disabled():
            return list(Order.objects.select_related("placed_by").order_by("pk"))

    def test_it_places_lists_changes_and_cancels(self) -> None:
        round, veg, rice = self.open_round(stock=5)
        household = str(self.zhang.household_id)
        out = run(
            "place", str(round.pk), "--household", household,
            "--item", f"{veg.pk}:2", f"{rice.pk}:1", "--key", "cli-1", "--actor", "alice",
        )  # fmt: skip
        [order] = self.orders()
        self.assertIn(f"订单 {order.pk}", out)
        self.assertIn("取货码 " + order.pickup_code, out)
        self.assertIn("¥195.00", out)
        self.assertEqual((order.channel, order.placed_by), (Channel.PROXY, self.alice))
        again = run(
            "place", str(round.pk), "--household", household,
            "--item", f"{veg.pk}:2", f"{rice.pk}:1", "--key", "cli-1", "--actor", "alice",
        )  # fmt: skip
        self.assertIn(f"订单 {order.pk}", again)
        self.assertEqual(len(self.orders()), 1)

        listing = run("list", str(round.pk), "--actor", "alice")
        self.assertIn("阳光小区1号楼1单元101", listing)
        self.assertIn("蔬菜包×2", listing)
        self.assertIn("张**", listing)

        run(
            "change",
            str(order.pk),
            "--item",
            f"{rice.pk}:2",
            "--payment",
            "online",
            "--actor",
            "alice",
        )
        [order] = self.orders()
        self.assertEqual(order.payment, Payment.ONLINE)
        with scopes_disabled():
            self.assertEqual(list(order.items.values_list("offer_id", "quantity")), [(rice.pk, 2)])
        veg.refresh_from_db()
        self.assertEqual(veg.remaining, 5)

        run("cancel", str(order.pk), "--actor", "alice")
        [order] = self.orders()
        self.assertEqual((order.status, order.cancelled_by), (OrderStatus.CANCELLED, self.alice))

    def test_it_shows_where_an_order_is(self) -> None:
        round, veg, _rice = self.open_round()
        run("place", str(round.pk), "--household", str(self.zeng.household_id),
            "--item", f"{veg.pk}:1", "--actor", "rita")  # fmt: skip
        [order] = self.orders()
        self.assertEqual(order.channel, Channel.RESIDENT)
        with scopes_disabled():
            Order.objects.filter(pk=order.pk).update(
                delivery_status=DeliveryStatus.OUT_FOR_DELIVERY
            )
        out = run("status", str(order.pk), "--actor", "rita")
        self.assertIn("配送中", out)
        self.assertIn(order.pickup_code, out)

    def test_it_refuses_in_chinese(self) -> None:
        round, veg, _rice = self.open_round(stock=1, limit=1)
        run("place", str(round.pk), "--household", str(self.zhang.household_id),
            "--item", f"{veg.pk}:1", "--actor", "carol")  # fmt: skip
        cases = [
            (("place", str(round.pk), "--household", str(self.zeng.household_id),
              "--item", f"{veg.pk}:1", "--actor", "carol"), "蔬菜包 已售罄"),
            (("place", str(round.pk), "--household", str(self.li.household_id),
              "--item", f"{veg.pk}:1", "--actor", "alice"), "不在您的管辖范围内"),
            (("place", str(round.pk), "--household", str(self.zhao.household_id),
              "--item", f"{veg.pk}:1", "--actor", "dave"), "不在本轮供应范围内"),
            (("place", str(round.pk), "--household", str(self.zeng.household_id),
              "--item", "999:1", "--actor", "carol"), "供应 999 不在本轮供应中"),
            (("place", str(round.pk), "--household", str(self.zeng.household_id),
              "--item", f"{veg.pk}:1"), "--actor"),
            (("place", str(round.pk), "--household", str(self.zeng.household_id),
              "--item", f"{veg.pk}:1", "--actor", "victor"), "您的角色不能下单"),
            (("change", str(self.orders()[0].pk), "--actor", "carol"), "请用 --item 或 --payment"),
            (("status", str(self.orders()[0].pk), "--actor", "bob"), "不在您的管辖范围内"),
        ]  # fmt: skip
        for args, message in cases:
            with self.subTest(message), self.assertRaisesMessage(CommandError, message):
                run(*args)
        self.assertEqual(len(self.orders()), 1)

    def test_it_shows_a_supplier_its_orders_masked(self) -> None:
        round, veg, _rice = self.open_round()
        self.supplier.accounts.add(self.sam)
        run("place", str(round.pk), "--household", str(self.zhang.household_id),
            "--item", f"{veg.pk}:1", "--actor", "carol")  # fmt: skip
        out = run("list", str(round.pk), "--actor", "sam")
        self.assertIn("张**", out)
        self.assertNotIn("张建国", out)
        self.assertNotIn("carol", out)
