"""Placing, changing and cancelling orders: the rules and the stock they take."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.supply import actions
from linli.supply.actions import ItemInput
from linli.supply.choices import Channel, Intake, OrderStatus, RoundStatus
from linli.supply.models import Offer, Order
from linli.supply.tests.base import SupplyTestCase


class FirstComeTest(SupplyTestCase):
    def test_it_takes_stock_when_the_order_is_placed_and_records_the_proxy(self) -> None:
        round, veg, rice = self.open_round(stock=5)
        with scopes_disabled():
            order = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 2), ItemInput(rice, 1)],
            )
            veg.refresh_from_db()
            rice.refresh_from_db()
            self.assertEqual((veg.remaining, rice.remaining), (3, 4))
            self.assertEqual((order.channel, order.placed_by), (Channel.PROXY, self.alice))
            self.assertEqual(
                sorted(order.items.values_list("quantity", "allocated")), [(1, 1), (2, 2)]
            )

    def test_it_records_a_resident_ordering_for_their_own_household(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            order = actions.order_place(
                actor=self.rita_user,
                round=round,
                household=self.home("zeng"),
                items=[ItemInput(veg, 1)],
            )
        self.assertEqual(order.channel, Channel.RESIDENT)

    def test_it_says_sold_out_and_takes_nothing_of_the_other_items(self) -> None:
        round, veg, rice = self.open_round(stock=1)
        with scopes_disabled():
            actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1)],
            )
            with self.assertRaises(ValidationError) as caught:
                actions.order_place(
                    actor=self.alice,
                    round=round,
                    household=self.home("zeng"),
                    items=[ItemInput(rice, 1), ItemInput(veg, 1)],
                )
            rice.refresh_from_db()
        self.assertEqual(caught.exception.message_dict["items"], ["蔬菜包 已售罄"])
        self.assertEqual(rice.remaining, 1)

    def test_it_refuses_over_the_limit_outside_the_scope_and_after_close(self) -> None:
        round, veg, _rice = self.open_round(limit=2)
        with scopes_disabled():
            cases = [
                (
                    {"household": self.home("zhang"), "items": [ItemInput(veg, 3)]},
                    "items",
                    "蔬菜包 超过每户限购 2 份",
                ),
                (
                    {"household": self.home("zhao"), "items": [ItemInput(veg, 1)]},
                    "household",
                    "星河湾1号楼1单元101 不在本轮供应范围内",
                ),
            ]
            for kwargs, field, message in cases:
                with self.subTest(field), self.assertRaises(ValidationError) as caught:
                    actions.order_place(actor=self.carol, round=round, **kwargs)  # type: ignore[arg-type]
                self.assertEqual(caught.exception.message_dict[field], [message])
            after_close = round.closes_at + dt.timedelta(seconds=1)
            with time_machine.travel(after_close), self.assertRaises(ValidationError) as caught:
                actions.order_place(
                    actor=self.carol,
                    round=round,
                    household=self.home("zhang"),
                    items=[ItemInput(veg, 1)],
                )
            self.assertEqual(caught.exception.message_dict["round"], ["本轮已截单"])
            self.assertFalse(Order.objects.exists())
            veg.refresh_from_db()
        self.assertEqual(veg.remaining, veg.stock)

    def test_it_gives_stock_back_on_change_and_cancel(self) -> None:
        round, veg, rice = self.open_round(stock=5)
        with scopes_disabled():
            order = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 2)],
            )
            actions.order_change(actor=self.alice, order=order, items=[ItemInput(rice, 1)])
            veg.refresh_from_db()
            rice.refresh_from_db()
            self.assertEqual((veg.remaining, rice.remaining), (5, 4))
            actions.order_cancel(actor=self.alice, order=order)
            rice.refresh_from_db()
            order.refresh_from_db()
        self.assertEqual((rice.remaining, order.status), (5, OrderStatus.CANCELLED))

    def test_it_keeps_one_order_per_household_per_round(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1)],
            )
            with self.assertRaises(ValidationError) as caught:
                actions.order_place(
                    actor=self.carol,
                    round=round,
                    household=self.home("zhang"),
                    items=[ItemInput(veg, 1)],
                )
        self.assertEqual(
            caught.exception.message_dict["household"], ["该户本轮已有订单，请修改原订单"]
        )

    def test_it_makes_one_order_of_one_idempotency_key(self) -> None:
        round, veg, _rice = self.open_round(stock=5)
        with scopes_disabled():
            first = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1)],
                idempotency_key="k-6am-001",
            )
            again = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1)],
                idempotency_key="k-6am-001",
            )
            veg.refresh_from_db()
            self.assertEqual(first.pk, again.pk)
            self.assertEqual((Order.objects.count(), veg.remaining), (1, 4))
            with self.assertRaises(ValidationError) as caught:
                actions.order_place(
                    actor=self.alice,
                    round=round,
                    household=self.home("zeng"),
                    items=[ItemInput(veg, 1)],
                    idempotency_key="k-6am-001",
                )
        self.assertIn("idempotency_key", caught.exception.message_dict)

    def test_it_is_stopped_by_the_database_if_code_ever_oversold(self) -> None:
        _round, veg, _rice = self.open_round(stock=1)
        with self.assertRaises(IntegrityError), transaction.atomic():
            Offer.objects.filter(pk=veg.pk).update(remaining=-1)


class FairTest(SupplyTestCase):
    def test_it_takes_requests_and_shares_scarce_stock_at_close_register_first(self) -> None:
        round, veg, _rice = self.open_round(intake=Intake.FAIR, stock=2, limit=2)
        with scopes_disabled():
            for attr in ("zhang", "zeng", "li"):
                actions.order_place(
                    actor=self.carol,
                    round=round,
                    household=self.home(attr),
                    items=[ItemInput(veg, 2)],
                )
            veg.refresh_from_db()
            self.assertEqual(veg.remaining, 2)  # requests take nothing before close
            actions.round_close(actor=self.carol, round=round)
            round.refresh_from_db()
            shares = {
                item.order.household_id: (item.allocated, item.allocation_note)
                for item in veg.items.select_related("order")
            }
            veg.refresh_from_db()
        self.assertEqual(round.status, RoundStatus.ALLOCATED)
        zhang = shares[self.zhang.household_id]  # 张建国 lives alone: on the register
        self.assertEqual(zhang[0], 1)
        self.assertTrue(zhang[1].startswith("重点人群优先。"))
        self.assertEqual(sorted(a for a, _note in shares.values()), [0, 1, 1])
        self.assertEqual(veg.remaining, 0)

    def test_it_gives_the_same_result_when_allocation_is_run_again(self) -> None:
        round, veg, _rice = self.open_round(intake=Intake.FAIR, stock=1, limit=1)
        with scopes_disabled():
            for attr in ("zeng", "li", "wang"):
                actions.order_place(
                    actor=self.carol,
                    round=round,
                    household=self.home(attr),
                    items=[ItemInput(veg, 1)],
                )
            actions.round_close(actor=self.carol, round=round)
            first = sorted(veg.items.values_list("order__household_id", "allocated"))
            round.status = RoundStatus.CLOSED
            round.save(update_fields=["status"])
            actions.allocate_round(actor=self.carol, round=round)
            second = sorted(veg.items.values_list("order__household_id", "allocated"))
        self.assertEqual(first, second)


class RoundTest(SupplyTestCase):
    def test_it_copies_a_round_with_its_offers_two_days_on(self) -> None:
        round, _veg, _rice = self.open_round(stock=7)
        with scopes_disabled():
            copy = actions.round_copy(
                actor=self.carol, round=round, opens_at=round.opens_at + dt.timedelta(days=2)
            )
            self.assertEqual(copy.status, RoundStatus.DRAFT)
            self.assertEqual(copy.delivery_date, round.delivery_date + dt.timedelta(days=2))
            self.assertEqual(
                sorted(copy.offers.values_list("package__name", "stock", "remaining")),
                [("米面油套餐", 7, 7), ("蔬菜包", 7, 7)],
            )

    def test_it_refuses_to_open_without_offers_and_a_backward_window(self) -> None:
        now = timezone.now()
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.round_create(
                actor=self.carol,
                street_id=self.street.pk,
                data=actions.RoundInput(
                    title=" ",
                    scope="community",
                    opens_at=now,
                    closes_at=now,
                    delivery_date=now.date(),
                    intake="first_come",
                ),
            )
        self.assertEqual(set(caught.exception.message_dict), {"title", "closes_at", "community"})


class OrderStatusPageTest(SupplyTestCase):
    def test_it_shows_the_household_and_its_area_where_the_order_is(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            order = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zeng"),
                items=[ItemInput(veg, 1)],
            )
        for user in (self.rita_user, self.alice, self.carol):
            self.login(user)
            response = self.client.get(f"/orders/{order.pk}/status")
            self.assertContains(response, "待发货", msg_prefix=user.username)
        for user in (self.bob, self.victor, self.sam):
            self.login(user)
            self.assertEqual(self.client.get(f"/orders/{order.pk}/status").status_code, 404)
