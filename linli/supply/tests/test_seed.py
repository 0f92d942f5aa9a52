"""Issue 4's demo data: suppliers, packs and three rounds added by `linli seed`."""

from __future__ import annotations

from collections import Counter
from io import StringIO

from django.core.management import call_command
from django.db.models import F, Sum
from django.test import RequestFactory, override_settings
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.checkpoints.choices import GoodsStatus
from linli.checkpoints.models import GoodsReceipt
from linli.registry import seed
from linli.registry.choices import CareTag
from linli.registry.models import Grid
from linli.supply import actions, figures
from linli.supply.choices import (
    Channel,
    DeliveryStatus,
    Intake,
    OrderStatus,
    RoundStatus,
    ShipmentStatus,
    SupplierKind,
)
from linli.supply.models import (
    CarePlan,
    Offer,
    Order,
    OrderItem,
    Package,
    Shipment,
    Supplier,
    SupplyRound,
)
from linli.supply.seed import SEVEN_PACKS
from linli.test import BaseTestCase
from linli.workforce.choices import StopStatus
from linli.workforce.models import Task, TaskStop

PASSWORD = "seed-test-password"


def counts() -> tuple[int, ...]:
    with scopes_disabled():
        return (
            Supplier.objects.count(),
            Package.objects.count(),
            SupplyRound.objects.count(),
            Offer.objects.count(),
            Order.objects.count(),
            OrderItem.objects.count(),
            Shipment.objects.count(),
            CarePlan.objects.count(),
            GoodsReceipt.objects.count(),
            Task.objects.count(),
            TaskStop.objects.count(),
        )


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class SupplySeedTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed.seed(tier="community", password=PASSWORD, households=200)
        seed.seed_installed_apps(tier="community", password=PASSWORD, stdout=None)

    def rounds(self) -> tuple[SupplyRound, SupplyRound, SupplyRound]:
        with scopes_disabled():
            settled, today, fair = SupplyRound.objects.filter(street__code="cuiping").order_by("pk")
        return settled, today, fair

    def test_it_makes_the_suppliers_and_packs_of_the_story(self) -> None:
        with scopes_disabled():
            suppliers = Supplier.objects.filter(street__code="cuiping")
            self.assertEqual(
                sorted(suppliers.values_list("kind", flat=True)), sorted(SupplierKind.values)
            )
            own = suppliers.get(accounts__username="supplier_1")
            self.assertEqual(own.name, "惠民生鲜配送")
            self.assertTrue(own.communities.filter(code="wutong").exists())
            packs = own.packages.order_by("pk")
            self.assertEqual(
                [(p.name, p.category, p.net_weight_g, p.price_fen) for p in packs],
                [(s.name, s.category, s.grams, s.fen) for s in SEVEN_PACKS],
            )
            self.assertEqual(
                {p.category for p in packs},
                {"grain_oil", "vegetables", "meat", "tofu", "condiments", "fruit", "hotpot"},
            )
            self.assertTrue(all(1_000 <= p.net_weight_g <= 10_000 for p in packs))
            self.assertTrue(all(p.contents for p in Package.objects.all()))

    def test_it_settles_two_days_ago_with_figures_that_add_up(self) -> None:
        settled, _today, _fair = self.rounds()
        self.assertEqual(settled.status, RoundStatus.SETTLED)
        self.assertEqual(settled.intake, Intake.FIRST_COME)
        today = timezone.localdate()
        self.assertEqual((today - timezone.localtime(settled.opens_at).date()).days, 2)
        with scopes_disabled():
            orders = Order.objects.filter(round=settled)
            households = orders.values("household__community").distinct().count()
            self.assertEqual(households, 1)
            # Every door settled as the hand-off would have left it: nothing to catch up.
            self.assertEqual(actions.orders_sync_deliveries(settled), 0)
            statuses = Counter(orders.values_list("delivery_status", flat=True))
            self.assertEqual(set(statuses), {DeliveryStatus.DELIVERED, DeliveryStatus.FAILED})
            self.assertGreater(statuses[DeliveryStatus.DELIVERED], 10 * statuses["failed"])
            for order in orders.select_related("task_stop"):
                stop = order.task_stop
                assert stop is not None
                self.assertEqual(order.household_id, stop.household_id)
                self.assertEqual(order.delivery_status_at, stop.done_at)
                self.assertEqual(
                    order.delivery_status == DeliveryStatus.FAILED,
                    stop.status == StopStatus.FAILED,
                )
            shipments = Shipment.objects.filter(round=settled).select_related("goods")
            self.assertGreater(shipments.count(), 0)
            for shipment in shipments:
                self.assertEqual(shipment.status, ShipmentStatus.BUNDLED)
                goods = shipment.goods
                assert goods is not None
                assert goods.released_at is not None
                assert goods.hold_until is not None
                self.assertEqual(goods.status, GoodsStatus.RELEASED)
                self.assertGreaterEqual(goods.released_at, goods.hold_until)
            summary = figures.summary(orders)
            delivered = OrderItem.objects.filter(
                order__round=settled,
                order__status=OrderStatus.PLACED,
                order__delivery_status=DeliveryStatus.DELIVERED,
            )
            grams = sum(i.allocated * i.net_weight_g for i in delivered if i.allocated)
            fen = sum(i.allocated * i.price_fen for i in delivered if i.allocated)
        self.assertGreater(summary.households_reached, 0)
        self.assertEqual(summary.households_reached, statuses[DeliveryStatus.DELIVERED])
        self.assertGreater(summary.kg, 0)
        self.assertEqual(sum(row.grams for row in summary.categories), grams)
        self.assertEqual(summary.fen, fen)
        self.assertGreater(len(summary.categories), 3)
        assert summary.delivery_minutes_median is not None
        assert summary.delivery_minutes_p90 is not None
        self.assertTrue(10 < summary.delivery_minutes_median <= summary.delivery_minutes_p90)
        self.assertLess(summary.delivery_minutes_p90, 8 * 60)

    def test_it_opens_todays_round_with_orders_by_every_channel_and_care_packages(self) -> None:
        settled, today, _fair = self.rounds()
        self.assertTrue(today.window_open())
        self.assertEqual(today.intake, Intake.FIRST_COME)
        self.assertEqual(today.copied_from_id, settled.pk)
        with scopes_disabled():
            orders = Order.objects.filter(round=today)
            channels = Counter(
                orders.filter(status=OrderStatus.PLACED).values_list("channel", flat=True)
            )
            self.assertTrue({Channel.RESIDENT, Channel.PROXY, Channel.CARE} <= set(channels))
            workers = Grid.workers.through.objects.values("user_id")
            proxies = orders.filter(channel=Channel.PROXY, idempotency_key__startswith="seed-")
            self.assertGreater(proxies.count(), 0)
            self.assertFalse(proxies.exclude(placed_by__in=workers).exists())
            self.assertEqual(orders.filter(status=OrderStatus.CANCELLED).count(), 1)
            self.assertFalse(
                orders.filter(household__residents__user__username="resident_1").exists()
            )
            plan = CarePlan.objects.get(round=today)
            self.assertEqual(
                set(plan.tags), {CareTag.DIBAO, CareTag.DISABLED, CareTag.EXTREME_HARDSHIP}
            )
            self.assertTrue(plan.funder)
            self.assertGreater(plan.households, 0)
            self.assertEqual(OrderItem.objects.filter(care_plan=plan).count(), plan.households)
            sold_out = Offer.objects.get(round=today, package__name="火锅套餐")
            self.assertEqual(sold_out.remaining, 0)
            self.assertTrue(Offer.objects.filter(round=today, remaining__gt=0).exists())

    def test_it_takes_requests_in_a_fair_round_closing_later_today(self) -> None:
        _settled, _today, fair = self.rounds()
        self.assertEqual(fair.intake, Intake.FAIR)
        self.assertTrue(fair.window_open())
        self.assertGreater(fair.closes_at, timezone.now())
        with scopes_disabled():
            items = OrderItem.objects.filter(order__round=fair)
            self.assertGreater(items.count(), 0)
            self.assertFalse(items.filter(allocated__isnull=False).exists())
            asked = dict(
                items.values("offer_id").annotate(n=Sum("quantity")).values_list("offer_id", "n")
            )
            # Short of stock, so that closing has something to share out.
            for offer in Offer.objects.filter(round=fair):
                self.assertEqual(offer.remaining, offer.stock)
                self.assertLessEqual(offer.stock, asked.get(offer.pk, 1))
            staff = User.objects.get(username="community_staff")
            closed = actions.round_close(actor=staff, round=fair)
            self.assertEqual(closed.status, RoundStatus.ALLOCATED)
            for offer in Offer.objects.filter(round=fair):
                given = items.filter(offer=offer).aggregate(n=Sum("allocated"))["n"] or 0
                self.assertLessEqual(given, offer.stock)
                self.assertEqual(offer.remaining, offer.stock - given)

    def test_it_never_leaves_stock_negative_or_unaccounted(self) -> None:
        with scopes_disabled():
            self.assertFalse(Offer.objects.filter(remaining__lt=0).exists())
            self.assertFalse(Offer.objects.filter(remaining__gt=F("stock")).exists())
            for offer in Offer.objects.filter(round__intake=Intake.FIRST_COME):
                taken = (
                    OrderItem.objects.filter(
                        offer=offer, order__status=OrderStatus.PLACED
                    ).aggregate(n=Sum("quantity"))["n"]
                    or 0
                )
                self.assertEqual(offer.stock - offer.remaining, taken, offer.package.name)

    def test_it_lets_supplier_1_log_in_and_see_its_own_rounds_only(self) -> None:
        settled, today, fair = self.rounds()
        request = RequestFactory().post("/login/")
        self.assertTrue(
            self.client.login(request=request, username="supplier_1", password=PASSWORD)
        )
        page = self.client.get("/rounds/").content.decode()
        self.assertIn(settled.title, page)
        self.assertIn(today.title, page)
        self.assertNotIn(fair.title, page)
        self.assertEqual(self.client.get(f"/rounds/{fair.pk}/").status_code, 404)
        detail = self.client.get(f"/rounds/{today.pk}/").content.decode()
        self.assertIn("蔬菜包", detail)
        self.assertNotIn("爱心蔬菜包", detail)  # another supplier's offer
        sheet = self.client.get(f"/rounds/{settled.pk}/settlement/")
        self.assertEqual(sheet.status_code, 200)
        self.assertIn("惠民生鲜配送", sheet.content.decode())
        self.assertNotIn("江南农副产品批发市场", sheet.content.decode())

    def test_it_changes_nothing_when_run_again(self) -> None:
        before = counts()
        out = StringIO()
        call_command("seed", tier="community", password="other", stdout=out)
        self.assertEqual(counts(), before)
        self.assertIn("保供单位和轮次的演示数据已经存在", out.getvalue())
