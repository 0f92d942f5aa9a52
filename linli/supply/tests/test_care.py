"""Care packages (爱心包): one free unit for every tagged household of a round, paid by a
funder, taking stock at once, idempotent, and kept through order changes and a fair close."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from linli.registry import actions as registry_actions
from linli.registry.choices import CareTag
from linli.supply import actions
from linli.supply.choices import Channel, Intake, OrderStatus, Payment
from linli.supply.models import CarePlan, Offer, Order, OrderItem, SupplyRound
from linli.supply.tests.base import SupplyTestCase, make_round


class CareTestCase(SupplyTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            # zhang lives alone (base world); li is on dibao; zhao (星河社区) is disabled.
            registry_actions.care_profile_save(
                actor=cls.root, resident=cls.li, care=registry_actions.CareInput(tags=["dibao"])
            )
            registry_actions.care_profile_save(
                actor=cls.root,
                resident=cls.zhao,
                care=registry_actions.CareInput(tags=[CareTag.DISABLED]),
            )

    def draft(
        self, *, intake: str = Intake.FIRST_COME, stock: int = 10
    ) -> tuple[SupplyRound, Offer]:
        with scopes_disabled():
            round = make_round(
                self.carol, street_id=self.street.pk, community_id=self.community.pk, intake=intake
            )
            offer = actions.offer_add(
                actor=self.carol, round=round, package=self.veg, stock=stock, per_household_limit=2
            )
        return round, offer

    def apply(self, round: SupplyRound, offer: Offer, tags: list[str]) -> CarePlan:
        with scopes_disabled():
            return actions.care_plan_apply(
                actor=self.carol, round=round, offer=offer, tags=tags, funder="区慈善总会"
            )

    def care_orders(self, round: SupplyRound) -> list[Order]:
        with scopes_disabled():
            return list(Order.objects.filter(round=round, status=OrderStatus.PLACED).order_by("pk"))

    def remaining(self, offer: Offer) -> int:
        offer.refresh_from_db()
        return offer.remaining


class CarePlanApplyTests(CareTestCase):
    def test_it_gives_each_tagged_household_of_the_scope_exactly_one(self) -> None:
        round, offer = self.draft()
        plan = self.apply(round, offer, [CareTag.LIVES_ALONE, CareTag.DIBAO, CareTag.DISABLED])

        orders = self.care_orders(round)
        # zhao is tagged but lives in 星河社区, outside this community round.
        self.assertEqual(
            {o.household_id for o in orders}, {self.zhang.household_id, self.li.household_id}
        )
        with scopes_disabled():
            for order in orders:
                self.assertEqual(order.channel, Channel.CARE)
                self.assertEqual(order.payment, Payment.FREE)
                self.assertEqual(order.funder, "区慈善总会")
                self.assertEqual(order.placed_by, self.carol)
                items = list(order.items.all())
                self.assertEqual(
                    [(i.offer_id, i.quantity, i.allocated) for i in items], [(offer.pk, 1, 1)]
                )
                self.assertEqual(items[0].care_plan, plan)
        self.assertEqual(plan.households, 2)
        self.assertEqual(plan.tags, ["lives_alone", "dibao", "disabled"])
        self.assertEqual(self.remaining(offer), 8)

    def test_it_gives_nothing_twice_when_applied_again(self) -> None:
        round, offer = self.draft()
        self.apply(round, offer, [CareTag.LIVES_ALONE, CareTag.DIBAO])
        again = self.apply(round, offer, [CareTag.DIBAO, CareTag.LIVES_ALONE])

        self.assertEqual(again.households, 0)
        self.assertEqual(len(self.care_orders(round)), 2)
        with scopes_disabled():
            self.assertEqual(OrderItem.objects.filter(offer=offer).count(), 2)
        self.assertEqual(self.remaining(offer), 8)

    def test_it_adds_the_package_to_an_order_the_household_already_has(self) -> None:
        round, veg, rice = self.open_round()
        home = self.home("li")
        with scopes_disabled():
            order = actions.order_place(
                actor=self.alice,
                round=round,
                household=home,
                items=[actions.ItemInput(rice, 1)],
            )
        plan = self.apply(round, veg, [CareTag.DIBAO])

        self.assertEqual(plan.households, 1)
        with scopes_disabled():
            self.assertEqual(Order.objects.filter(round=round, household=home).count(), 1)
            items = {i.offer_id: i for i in order.items.all()}
        self.assertEqual(set(items), {veg.pk, rice.pk})
        self.assertEqual(items[veg.pk].care_plan, plan)
        self.assertIsNone(items[rice.pk].care_plan)
        self.assertEqual(self.remaining(veg), 9)

    def test_it_skips_a_household_that_already_ordered_the_offer(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[actions.ItemInput(veg, 1)],
            )
        plan = self.apply(round, veg, [CareTag.LIVES_ALONE])

        self.assertEqual(plan.households, 0)
        with scopes_disabled():
            self.assertFalse(OrderItem.objects.filter(care_plan=plan).exists())

    def test_it_refuses_when_stock_is_short_and_writes_nothing(self) -> None:
        round, offer = self.draft(stock=1)
        with self.assertRaises(ValidationError) as caught:
            self.apply(round, offer, [CareTag.LIVES_ALONE, CareTag.DIBAO])

        self.assertIn("库存不足", caught.exception.message_dict["offer"][0])
        self.assertEqual(self.care_orders(round), [])
        self.assertFalse(CarePlan.objects.exists())
        self.assertEqual(self.remaining(offer), 1)

    def test_it_names_bad_tags_and_a_missing_funder(self) -> None:
        round, offer = self.draft()
        with self.assertRaises(ValidationError) as caught, scopes_disabled():
            actions.care_plan_apply(
                actor=self.carol, round=round, offer=offer, tags=["vip"], funder=" "
            )
        errors = caught.exception.message_dict
        self.assertIn("没有这个人群标签", errors["tags"][0])
        self.assertIn("出资方", errors["funder"][0])
        self.assertFalse(CarePlan.objects.exists())

    def test_it_refuses_a_closed_round(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            actions.round_close(actor=self.carol, round=round)
        with self.assertRaises(ValidationError):
            self.apply(round, veg, [CareTag.LIVES_ALONE])
        self.assertEqual(self.care_orders(round), [])

    def test_it_keeps_care_items_out_of_a_fair_share_out(self) -> None:
        round, veg, _rice = self.open_round(intake=Intake.FAIR, stock=2, limit=2)
        plan = self.apply(round, veg, [CareTag.LIVES_ALONE])  # zhang's household: 1 unit
        with scopes_disabled():
            actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zeng"),
                items=[actions.ItemInput(veg, 2)],
            )
            actions.round_close(actor=self.carol, round=round)
            care = OrderItem.objects.get(care_plan=plan)
            asked = OrderItem.objects.get(order__household_id=self.zeng.household_id)
        self.assertEqual(care.allocated, 1)
        self.assertEqual(asked.allocated, 1)  # stock 2, one went as a care package
        self.assertEqual(self.remaining(veg), 0)

    def test_it_keeps_the_care_item_when_the_household_changes_its_order(self) -> None:
        round, veg, rice = self.open_round()
        home = self.home("zhang")
        plan = self.apply(round, veg, [CareTag.LIVES_ALONE])
        with scopes_disabled():
            order = Order.objects.get(round=round, household=home)
            actions.order_change(actor=self.alice, order=order, items=[actions.ItemInput(rice, 1)])
            offers = set(order.items.values_list("offer_id", flat=True))
            self.assertTrue(OrderItem.objects.filter(care_plan=plan, order=order).exists())
            with self.assertRaises(ValidationError):
                actions.order_change(
                    actor=self.alice, order=order, items=[actions.ItemInput(veg, 2)]
                )
        self.assertEqual(offers, {veg.pk, rice.pk})
        self.assertEqual(self.remaining(veg), 9)


class CarePageTests(CareTestCase):
    def test_it_applies_a_care_plan_from_the_page(self) -> None:
        round, offer = self.draft()
        self.login(self.carol)
        url = f"/rounds/{round.pk}/care/"
        self.assertEqual(self.client.get(url).status_code, 200)

        response = self.client.post(
            url, {"offer": offer.pk, "tags": ["lives_alone", "dibao"], "funder": "爱心企业"}
        )

        self.assertRedirects(response, url)
        plan = CarePlan.objects.get()
        self.assertEqual((plan.households, plan.funder), (2, "爱心企业"))
        self.assertEqual(self.remaining(offer), 8)
        page = self.client.get(url).content.decode()
        self.assertIn("独居老人", page)
        self.assertIn("爱心企业", page)

    def test_it_answers_400_naming_the_problem_and_writes_nothing(self) -> None:
        round, offer = self.draft(stock=1)
        self.login(self.carol)
        response = self.client.post(
            f"/rounds/{round.pk}/care/",
            {"offer": offer.pk, "tags": ["lives_alone", "dibao"], "funder": "爱心企业"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("库存不足", response.content.decode())
        self.assertFalse(CarePlan.objects.exists())
        self.assertEqual(self.remaining(offer), 1)

        response = self.client.post(f"/rounds/{round.pk}/care/", {"offer": offer.pk, "funder": ""})
        self.assertEqual(response.status_code, 400)
        self.assertIn("请至少选择一个人群标签", response.content.decode())
        self.assertFalse(CarePlan.objects.exists())

    def test_it_refuses_care_plans_to_those_who_may_not(self) -> None:
        round, offer = self.draft()
        for user in (self.alice, self.victor, self.sam, self.oscar):
            self.login(user)
            response = self.client.post(
                f"/rounds/{round.pk}/care/",
                {"offer": offer.pk, "tags": ["lives_alone"], "funder": "x"},
            )
            self.assertIn(response.status_code, (403, 404), user)
        self.assertFalse(CarePlan.objects.exists())
