"""The rounds and suppliers API: CRUD for street admins, rounds by scope and role, offers,
open / close / copy, care plans, and what a supplier token may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_scopes import scopes_disabled

from linli.registry.tests.test_api import ApiTestCase
from linli.supply import actions
from linli.supply.choices import Intake, RoundStatus
from linli.supply.models import CarePlan, Offer, OrderItem, Package, Supplier, SupplyRound
from linli.supply.tests.base import SupplyTestCase, make_round


class RoundApiTestCase(ApiTestCase, SupplyTestCase):
    def round_body(self, **changes: Any) -> dict[str, Any]:
        opens = timezone.now() + dt.timedelta(hours=1)
        body = {
            "title": "接口轮次",
            "scope": "community",
            "community_id": self.community.pk,
            "opens_at": opens.isoformat(),
            "closes_at": (opens + dt.timedelta(hours=8)).isoformat(),
            "delivery_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
            "intake": "first_come",
        }
        body.update(changes)
        return body

    def post(self, user: Any, path: str, body: Any = None) -> Any:
        return self.call(user, "POST", path, {} if body is None else body)


class SupplierApiTests(RoundApiTestCase):
    def test_it_creates_and_updates_a_supplier_and_its_packages(self) -> None:
        response = self.post(
            self.dave,
            "/api/v1/suppliers",
            {
                "name": "城南批发市场",
                "kind": "wholesale_market",
                "contact_phone": "13800138000",
                "community_ids": [self.community.pk],
                "accounts": ["sam"],
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["contact_phone_masked"], "138****8000")
        supplier = Supplier.objects.get(pk=body["id"])
        self.assertEqual(list(supplier.accounts.all()), [self.sam])

        response = self.post(
            self.dave,
            f"/api/v1/suppliers/{supplier.pk}/packages",
            {"name": "水果包", "category": "fruit", "net_weight_g": 3000, "price_fen": 3550},
        )
        self.assertEqual(response.status_code, 201, response.content)
        package = Package.objects.get(name="水果包")
        self.assertEqual((package.net_weight_g, package.price_fen), (3000, 3550))

        response = self.call(
            self.dave,
            "PUT",
            f"/api/v1/packages/{package.pk}",
            {"name": "水果包", "category": "fruit", "net_weight_g": 0, "price_fen": 3550},
        )
        self.assert_error(response, 400, net_weight_g="净重")
        package.refresh_from_db()
        self.assertEqual(package.net_weight_g, 3000)

    def test_it_refuses_supplier_writes_to_other_roles(self) -> None:
        body = {"name": "某超市", "kind": "chain_supermarket"}
        for user in (self.carol, self.alice, self.sam, self.victor, self.rita_user):
            self.assert_error(self.post(user, "/api/v1/suppliers", body), 403)
        self.assertEqual(Supplier.objects.count(), 1)

    def test_it_shows_a_supplier_token_its_own_supplier_only(self) -> None:
        other = Supplier.objects.create(
            street=self.street, name="别家超市", kind="chain_supermarket"
        )
        self.supplier.accounts.add(self.sam)
        self.assertEqual(self.names(self.sam, "/api/v1/suppliers"), {self.supplier.name})
        self.assertEqual(self.get(self.sam, f"/api/v1/suppliers/{other.pk}").status_code, 404)
        self.assertEqual(
            self.names(self.dave, "/api/v1/suppliers"), {self.supplier.name, "别家超市"}
        )


class RoundApiTests(RoundApiTestCase):
    def test_it_creates_a_round_adds_offers_and_opens_it(self) -> None:
        response = self.post(self.carol, "/api/v1/rounds", self.round_body())
        self.assertEqual(response.status_code, 201, response.content)
        round = SupplyRound.objects.get(pk=response.json()["id"])
        self.assertEqual((round.community, round.status), (self.community, "draft"))

        response = self.post(self.carol, f"/api/v1/rounds/{round.pk}/open")
        self.assert_error(response, 400, offers="请先添加至少一个供应套餐")
        round.refresh_from_db()
        self.assertEqual(round.status, "draft")

        response = self.post(
            self.carol, f"/api/v1/rounds/{round.pk}/offers", {"package_id": self.veg.pk, "stock": 0}
        )
        self.assert_error(response, 400, stock="库存至少为 1")
        self.assertFalse(Offer.objects.exists())

        response = self.post(
            self.carol,
            f"/api/v1/rounds/{round.pk}/offers",
            {"package_id": self.veg.pk, "stock": 20, "per_household_limit": 2},
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["offers"][0]["remaining"], 20)

        response = self.post(self.carol, f"/api/v1/rounds/{round.pk}/open")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "open")
        round.refresh_from_db()
        self.assertEqual((round.status, round.status_changed_by), ("open", self.carol))

    def test_it_checks_who_may_create_which_round(self) -> None:
        response = self.post(self.carol, "/api/v1/rounds", self.round_body(scope="street"))
        self.assert_error(response, 403)
        response = self.post(
            self.carol, "/api/v1/rounds", self.round_body(community_id=self.community_b.pk)
        )
        self.assert_error(response, 400, community_id="管辖范围")
        for user in (self.alice, self.victor, self.sam, self.rita_user, self.oscar):
            self.assert_error(self.post(user, "/api/v1/rounds", self.round_body()), 403)
        self.assertFalse(SupplyRound.objects.exists())

        response = self.post(self.dave, "/api/v1/rounds", self.round_body(scope="street"))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(SupplyRound.objects.get().scope, "street")

    def test_it_refuses_a_window_closing_before_it_opens(self) -> None:
        opens = timezone.now() + dt.timedelta(hours=3)
        response = self.post(
            self.carol,
            "/api/v1/rounds",
            self.round_body(
                opens_at=opens.isoformat(), closes_at=(opens - dt.timedelta(hours=1)).isoformat()
            ),
        )
        self.assert_error(response, 400, closes_at="截单时间必须晚于开始接单时间")
        self.assertFalse(SupplyRound.objects.exists())

    def test_it_closes_a_fair_round_with_allocation_and_copies_it(self) -> None:
        round, veg, _rice = self.open_round(intake=Intake.FAIR, stock=1)
        with scopes_disabled():
            for name in ("zhang", "li"):
                actions.order_place(
                    actor=self.alice,
                    round=round,
                    household=self.home(name),
                    items=[actions.ItemInput(veg, 1)],
                )
        response = self.post(self.carol, f"/api/v1/rounds/{round.pk}/close")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], RoundStatus.ALLOCATED)
        with scopes_disabled():
            self.assertEqual(
                sorted(OrderItem.objects.filter(offer=veg).values_list("allocated", flat=True)),
                [0, 1],
            )

        response = self.post(self.carol, f"/api/v1/rounds/{round.pk}/copy")
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["status"], "draft")
        self.assertEqual(len(body["offers"]), 2)
        copy = SupplyRound.objects.get(pk=body["id"])
        self.assertEqual(copy.opens_at, round.opens_at + dt.timedelta(days=2))

    def test_it_answers_404_outside_the_area(self) -> None:
        with scopes_disabled():
            far = make_round(
                self.root,
                street_id=self.community_far.street_id,
                community_id=self.community_far.pk,
            )
        for user in (self.carol, self.dave, self.alice):
            self.assert_error(self.get(user, f"/api/v1/rounds/{far.pk}"), 404)
        self.assert_error(self.post(self.dave, f"/api/v1/rounds/{far.pk}/open"), 404)

    def test_it_shows_a_supplier_token_its_own_offers_and_no_households(self) -> None:
        round, _veg, _rice = self.open_round()
        other = Supplier.objects.create(
            street=self.street, name="别家超市", kind="chain_supermarket"
        )
        eggs = Package.objects.create(
            supplier=other, name="鸡蛋30枚", category="eggs", net_weight_g=1500, price_fen=2500
        )
        with scopes_disabled():
            actions.offer_add(actor=self.carol, round=round, package=eggs, stock=5)
            hidden = make_round(
                self.carol, street_id=self.street.pk, community_id=self.community.pk
            )
            actions.offer_add(actor=self.carol, round=hidden, package=eggs, stock=5)
            actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[actions.ItemInput(round.offers.get(package=eggs), 1)],
            )
        self.supplier.accounts.add(self.sam)

        response = self.get(self.sam, "/api/v1/rounds")
        self.assertEqual(response.status_code, 200, response.content)
        items = response.json()["items"]
        self.assertEqual([r["id"] for r in items], [round.pk])
        self.assertEqual({o["package_name"] for o in items[0]["offers"]}, {"蔬菜包", "米面油套餐"})
        self.assertEqual(items[0]["order_count"], 0)  # the only order is for the other's eggs
        self.assertNotIn("张", response.content.decode())
        self.assert_error(self.get(self.sam, f"/api/v1/rounds/{hidden.pk}"), 404)
        self.assert_error(self.post(self.sam, f"/api/v1/rounds/{round.pk}/close"), 403)
        self.assert_error(self.get(self.sam, f"/api/v1/rounds/{round.pk}/care-plans"), 403)


class CarePlanApiTests(RoundApiTestCase):
    def test_it_applies_a_care_plan(self) -> None:
        round, veg, _rice = self.open_round()
        body = {"offer_id": veg.pk, "tags": ["lives_alone"], "funder": "区慈善总会"}
        for user in (self.alice, self.sam, self.victor):
            self.assert_error(self.post(user, f"/api/v1/rounds/{round.pk}/care-plans", body), 403)
        self.assert_error(
            self.post(self.carol, f"/api/v1/rounds/{round.pk}/care-plans", {**body, "tags": ["x"]}),
            400,
            tags="没有这个人群标签",
        )
        self.assertFalse(CarePlan.objects.exists())

        response = self.post(self.carol, f"/api/v1/rounds/{round.pk}/care-plans", body)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["households"], 1)
        veg.refresh_from_db()
        self.assertEqual(veg.remaining, 9)
        listed = self.get(self.carol, f"/api/v1/rounds/{round.pk}/care-plans").json()
        self.assertEqual([(p["funder"], p["households"]) for p in listed], [("区慈善总会", 1)])
