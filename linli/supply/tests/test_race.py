"""The 6 a.m. rush on the real database: 500 orders at once for an offer of 100, and the
same order sent twice at once with one idempotency key."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.test import TransactionTestCase
from django_scopes import scopes_disabled

from linli.registry.models import Community, Household, Street
from linli.supply import actions
from linli.supply.actions import ItemInput
from linli.supply.choices import Category
from linli.supply.models import Offer, Order, OrderItem, SupplyRound
from linli.supply.tests.base import make_package, make_round, make_supplier
from linli.test import make_place, make_user

ORDERS = 500
STOCK = 100
CLIENTS = 50  # concurrent connections; PostgreSQL in CI allows 600 (both workers share it)


class OrderRushTest(TransactionTestCase):
    def setUp(self) -> None:
        with scopes_disabled():
            street = Street.objects.create(name="和平街道", code="heping")
            community = Community.objects.create(street=street, name="阳光社区", code="yg")
            unit = make_place(community, "阳光小区", "1号楼", "1单元")
            self.staff = make_user("carol", "community_staff", community=community)
            homes = []
            for n in range(ORDERS):
                home = Household(room=f"{n + 1:03d}")
                home.place_in(unit)
                homes.append(home)
            self.households = Household.objects.bulk_create(homes)
            supplier = make_supplier(street.pk)
            package = make_package(supplier, "米面油套餐", Category.GRAIN_OIL, 10000, 9900)
            self.round = make_round(self.staff, street_id=street.pk, community_id=community.pk)
            self.offer = actions.offer_add(
                actor=self.staff, round=self.round, package=package, stock=STOCK
            )
            actions.round_open(actor=self.staff, round=self.round)

    def fresh_offer(self) -> Offer:
        return Offer.objects.select_related("package").get(pk=self.offer.pk)

    def place(self, household: Household, key: str | None = None) -> Any:
        try:
            with scopes_disabled():
                return actions.order_place(
                    actor=self.staff,
                    round=SupplyRound.objects.get(pk=self.round.pk),
                    household=Household.objects.select_related("unit__building", "community").get(
                        pk=household.pk
                    ),
                    items=[
                        ItemInput(Offer.objects.select_related("package").get(pk=self.offer.pk), 1)
                    ],
                    idempotency_key=key,
                )
        except Exception as exc:  # every outcome is asserted below
            return exc
        finally:
            connection.close()

    def test_it_sells_exactly_the_stock_to_500_households_at_once(self) -> None:
        start = threading.Barrier(CLIENTS)

        def one(household: Household) -> Any:
            if household.pk <= self.households[CLIENTS - 1].pk:
                start.wait()  # the first wave leaves together
            return self.place(household)

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            outcomes = list(pool.map(one, self.households))

        placed = [o for o in outcomes if isinstance(o, Order)]
        refused = [o for o in outcomes if isinstance(o, ValidationError)]
        others = [o for o in outcomes if not isinstance(o, Order | ValidationError)]
        self.assertEqual(others, [])
        self.assertEqual((len(placed), len(refused)), (STOCK, ORDERS - STOCK))
        for error in refused:
            self.assertEqual(error.message_dict["items"], ["米面油套餐 已售罄"])
        with scopes_disabled():
            self.offer.refresh_from_db()
            self.assertEqual(self.offer.remaining, 0)
            self.assertEqual(Order.objects.count(), STOCK)
            self.assertEqual(OrderItem.objects.filter(allocated=1).count(), STOCK)
            # Every acknowledged order is in the database.
            self.assertEqual(
                set(Order.objects.values_list("pk", flat=True)), {o.pk for o in placed}
            )

    def test_it_makes_one_order_of_one_key_sent_at_once(self) -> None:
        home = self.households[0]
        start = threading.Barrier(8)

        def send(_n: int) -> Any:
            start.wait()
            return self.place(home, key="retry-0600-0001")

        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(send, range(8)))

        self.assertTrue(all(isinstance(o, Order) for o in outcomes), outcomes)
        self.assertEqual(len({o.pk for o in outcomes}), 1)
        with scopes_disabled():
            self.assertEqual(Order.objects.count(), 1)
            self.offer.refresh_from_db()
        self.assertEqual(self.offer.remaining, STOCK - 1)
