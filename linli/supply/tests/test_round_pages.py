"""Supplier, package and round pages: who may do what, validation in Chinese with nothing
written, opening, closing (a fair round is shared out) and copying."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_scopes import scopes_disabled

from linli.registry.models import Building, Compound
from linli.supply import actions
from linli.supply.choices import Intake, RoundScope, RoundStatus, SupplierKind
from linli.supply.models import Offer, OrderItem, Package, Supplier, SupplyRound
from linli.supply.tests.base import SupplyTestCase, make_round


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


class SupplierPageTests(SupplyTestCase):
    def supplier_data(self, **changes: Any) -> dict[str, Any]:
        data = {
            "name": "城南批发市场",
            "kind": SupplierKind.WHOLESALE_MARKET,
            "contact_name": "周经理",
            "contact_phone": "13800138000",
            "communities": [self.community.pk],
            "accounts": [self.sam.pk],
            "active": "on",
        }
        data.update(changes)
        return data

    def test_it_lets_a_street_admin_add_a_supplier_with_accounts(self) -> None:
        self.login(self.dave)
        response = self.client.post("/suppliers/new/", self.supplier_data())

        supplier = Supplier.objects.get(name="城南批发市场")
        self.assertRedirects(response, f"/suppliers/{supplier.pk}/")
        self.assertEqual(supplier.street, self.street)
        self.assertEqual(supplier.contact_phone, "13800138000")
        with scopes_disabled():
            self.assertEqual(list(supplier.communities.all()), [self.community])
        self.assertEqual(list(supplier.accounts.all()), [self.sam])
        page = self.client.get(f"/suppliers/{supplier.pk}/").content.decode()
        self.assertIn("138****8000", page)
        self.assertNotIn("13800138000", page)

    def test_it_names_the_problem_and_writes_nothing(self) -> None:
        self.login(self.dave)
        response = self.client.post(
            "/suppliers/new/",
            self.supplier_data(
                name=self.supplier.name, contact_phone="abc", accounts=[self.alice.pk]
            ),
        )
        self.assertEqual(response.status_code, 400)
        page = response.content.decode()
        self.assertIn("所选账号不是保供单位账号", page)
        self.assertEqual(Supplier.objects.count(), 1)

        response = self.client.post(
            "/suppliers/new/", self.supplier_data(name=self.supplier.name, contact_phone="abc")
        )
        self.assertEqual(response.status_code, 400)
        page = response.content.decode()
        self.assertIn("本街道已有同名的保供单位", page)
        self.assertIn("联系电话应为手机号或固定电话", page)
        self.assertEqual(Supplier.objects.count(), 1)

    def test_it_refuses_supplier_management_to_other_roles(self) -> None:
        for user in (self.carol, self.alice, self.victor, self.sam, self.rita_user, self.oscar):
            self.login(user)
            self.assertEqual(self.client.get("/suppliers/new/").status_code, 403, user)
            response = self.client.post("/suppliers/new/", self.supplier_data())
            self.assertEqual(response.status_code, 403, user)
            response = self.client.post(f"/suppliers/{self.supplier.pk}/packages/new/", {})
            self.assertEqual(response.status_code, 403, user)
        self.assertEqual(Supplier.objects.count(), 1)
        for user in (self.victor, self.rita_user, self.oscar):
            self.login(user)
            self.assertEqual(self.client.get("/suppliers/").status_code, 403, user)

    def test_it_edits_a_supplier(self) -> None:
        self.login(self.dave)
        response = self.client.post(
            f"/suppliers/{self.supplier.pk}/edit/",
            self.supplier_data(name="惠民生鲜", kind=SupplierKind.ECOMMERCE, communities=[]),
        )
        self.assertRedirects(response, f"/suppliers/{self.supplier.pk}/")
        self.supplier.refresh_from_db()
        self.assertEqual((self.supplier.name, self.supplier.kind), ("惠民生鲜", "ecommerce"))
        with scopes_disabled():
            self.assertFalse(self.supplier.communities.exists())

    def test_it_shows_a_supplier_account_its_own_supplier_read_only(self) -> None:
        self.supplier.accounts.add(self.sam)
        other = Supplier.objects.create(
            street=self.street, name="别家超市", kind="chain_supermarket"
        )
        self.login(self.sam)
        page = self.client.get("/suppliers/").content.decode()
        self.assertIn(self.supplier.name, page)
        self.assertNotIn("别家超市", page)
        page = self.client.get(f"/suppliers/{self.supplier.pk}/").content.decode()
        self.assertIn("蔬菜包", page)
        self.assertNotIn(f"/packages/{self.veg.pk}/edit/", page)
        self.assertEqual(self.client.get(f"/suppliers/{other.pk}/").status_code, 404)
        self.assertEqual(self.client.get(f"/packages/{self.veg.pk}/edit/").status_code, 403)


class PackagePageTests(SupplyTestCase):
    def package_data(self, **changes: Any) -> dict[str, Any]:
        data = {
            "name": "肉类套餐",
            "category": "meat",
            "contents": "猪肉 1 千克\n鸡腿 1 千克",
            "weight": "2.5",
            "weight_unit": "kg",
            "price": "68.50",
            "active": "on",
        }
        data.update(changes)
        return data

    def test_it_stores_grams_and_fen_from_kilograms_and_yuan(self) -> None:
        self.login(self.dave)
        response = self.client.post(
            f"/suppliers/{self.supplier.pk}/packages/new/", self.package_data()
        )
        self.assertRedirects(response, f"/suppliers/{self.supplier.pk}/")
        package = Package.objects.get(name="肉类套餐")
        self.assertEqual((package.net_weight_g, package.price_fen), (2500, 6850))
        page = self.client.get(f"/suppliers/{self.supplier.pk}/").content.decode()
        self.assertIn("¥68.50", page)
        self.assertIn("2.5 kg", page)

        response = self.client.post(
            f"/packages/{package.pk}/edit/",
            self.package_data(weight="800", weight_unit="g", price="70"),
        )
        package.refresh_from_db()
        self.assertEqual((package.net_weight_g, package.price_fen), (800, 7000))

    def test_it_refuses_a_price_with_three_decimals_and_writes_nothing(self) -> None:
        self.login(self.dave)
        response = self.client.post(
            f"/suppliers/{self.supplier.pk}/packages/new/", self.package_data(price="68.505")
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("最多两位小数", response.content.decode())
        self.assertFalse(Package.objects.filter(name="肉类套餐").exists())

    def test_it_refuses_a_weight_that_is_not_whole_grams_or_zero(self) -> None:
        self.login(self.dave)
        for weight, unit in (("0.0005", "kg"), ("abc", "kg"), ("0", "g")):
            response = self.client.post(
                f"/suppliers/{self.supplier.pk}/packages/new/",
                self.package_data(weight=weight, weight_unit=unit),
            )
            self.assertEqual(response.status_code, 400, weight)
            self.assertIn("净重", response.content.decode())
        self.assertFalse(Package.objects.filter(name="肉类套餐").exists())


class RoundPageTestCase(SupplyTestCase):
    def round_data(self, **changes: Any) -> dict[str, Any]:
        opens = timezone.now() + dt.timedelta(hours=1)
        data = {
            "title": "第二轮保供",
            "scope": RoundScope.COMMUNITY,
            "community": self.community.pk,
            "opens_at": local(opens),
            "closes_at": local(opens + dt.timedelta(hours=10)),
            "delivery_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
            "intake": Intake.FIRST_COME,
        }
        data.update(changes)
        return data

    def draft(self, *, intake: str = Intake.FIRST_COME) -> SupplyRound:
        with scopes_disabled():
            return make_round(
                self.carol, street_id=self.street.pk, community_id=self.community.pk, intake=intake
            )


class RoundCreateTests(RoundPageTestCase):
    def test_it_lets_community_staff_create_a_round_for_their_community(self) -> None:
        self.login(self.carol)
        self.assertEqual(self.client.get("/rounds/new/").status_code, 200)
        response = self.client.post("/rounds/new/", self.round_data())
        round = SupplyRound.objects.get(title="第二轮保供")
        self.assertRedirects(response, f"/rounds/{round.pk}/")
        self.assertEqual(
            (round.scope, round.community, round.status), ("community", self.community, "draft")
        )
        self.assertEqual(round.created_by, self.carol)

    def test_it_lets_a_street_admin_create_a_street_round(self) -> None:
        self.login(self.dave)
        response = self.client.post(
            "/rounds/new/", self.round_data(scope=RoundScope.STREET, community="")
        )
        round = SupplyRound.objects.get(title="第二轮保供")
        self.assertRedirects(response, f"/rounds/{round.pk}/")
        self.assertEqual(
            (round.scope, round.street, round.community), ("street", self.street, None)
        )

    def test_it_refuses_community_staff_a_street_round(self) -> None:
        self.login(self.carol)
        response = self.client.post("/rounds/new/", self.round_data(scope=RoundScope.STREET))
        self.assertEqual(response.status_code, 403)
        self.assertFalse(SupplyRound.objects.exists())

    def test_it_refuses_community_staff_another_community(self) -> None:
        self.login(self.carol)
        response = self.client.post("/rounds/new/", self.round_data(community=self.community_b.pk))
        self.assertEqual(response.status_code, 400)
        self.assertIn("所选社区不在您的管辖范围内", response.content.decode())
        self.assertFalse(SupplyRound.objects.exists())

    def test_it_gives_a_compound_round_its_community(self) -> None:
        with scopes_disabled():
            compound = Compound.objects.get(name="阳光小区")
        self.login(self.carol)
        self.client.post(
            "/rounds/new/", self.round_data(scope=RoundScope.COMPOUND, compound=compound.pk)
        )
        round = SupplyRound.objects.get()
        self.assertEqual((round.compound, round.community), (compound, self.community))

    def test_it_creates_a_building_group_buy_with_a_resident_organiser(self) -> None:
        with scopes_disabled():
            building = Building.objects.get(pk=self.unit1.building_id)
            other = Building.objects.get(pk=self.unit2.building_id)
        self.login(self.carol)
        response = self.client.post(
            "/rounds/new/",
            self.round_data(scope=RoundScope.BUILDING, building=other.pk, organiser="rita"),
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("不住在本轮范围内", response.content.decode())
        self.assertFalse(SupplyRound.objects.exists())

        self.client.post(
            "/rounds/new/",
            self.round_data(scope=RoundScope.BUILDING, building=building.pk, organiser="rita"),
        )
        round = SupplyRound.objects.get()
        self.assertEqual((round.building, round.organiser), (building, self.rita_user))

    def test_it_refuses_a_window_that_closes_before_it_opens(self) -> None:
        self.login(self.carol)
        opens = timezone.now() + dt.timedelta(hours=5)
        response = self.client.post(
            "/rounds/new/",
            self.round_data(opens_at=local(opens), closes_at=local(opens - dt.timedelta(hours=1))),
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("截单时间必须晚于开始接单时间", response.content.decode())
        self.assertFalse(SupplyRound.objects.exists())

    def test_it_refuses_round_pages_to_roles_without_business(self) -> None:
        round = self.draft()
        for user in (self.victor, self.rita_user, self.oscar, self.kate):
            self.login(user)
            self.assertEqual(self.client.get("/rounds/").status_code, 403, user)
            self.assertEqual(self.client.get(f"/rounds/{round.pk}/").status_code, 403, user)
            self.assertEqual(self.client.post("/rounds/new/", self.round_data()).status_code, 403)
        for user in (self.alice, self.olivia, self.sam):
            self.login(user)
            self.assertEqual(self.client.post("/rounds/new/", self.round_data()).status_code, 403)
        self.assertEqual(SupplyRound.objects.count(), 1)

    def test_it_answers_404_for_a_round_outside_the_area(self) -> None:
        with scopes_disabled():
            far = make_round(
                self.root,
                street_id=self.community_far.street_id,
                community_id=self.community_far.pk,
            )
        for user in (self.carol, self.dave, self.alice):
            self.login(user)
            self.assertEqual(self.client.get(f"/rounds/{far.pk}/").status_code, 404, user)
        for user in (self.carol, self.dave):
            self.login(user)
            self.assertEqual(self.client.post(f"/rounds/{far.pk}/open/").status_code, 404, user)
            self.assertEqual(self.client.get(f"/rounds/{far.pk}/care/").status_code, 404, user)


class RoundDetailTests(RoundPageTestCase):
    def test_it_adds_an_offer_and_lists_the_rounds(self) -> None:
        round = self.draft()
        self.login(self.carol)
        response = self.client.post(
            f"/rounds/{round.pk}/offers/",
            {"package": self.veg.pk, "stock": 30, "per_household_limit": 2},
        )
        self.assertRedirects(response, f"/rounds/{round.pk}/")
        offer = Offer.objects.get(round=round)
        self.assertEqual((offer.stock, offer.remaining, offer.price_fen), (30, 30, 4800))
        page = self.client.get("/rounds/").content.decode()
        self.assertIn("蔬菜包 30/30", page)
        page = self.client.get(f"/rounds/{round.pk}/").content.decode()
        self.assertIn("¥48.00", page)

    def test_it_refuses_an_offer_with_no_stock_and_writes_nothing(self) -> None:
        round = self.draft()
        self.login(self.carol)
        response = self.client.post(
            f"/rounds/{round.pk}/offers/",
            {"package": self.veg.pk, "stock": 0, "per_household_limit": 1},
            headers={"HX-Request": "true"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("库存至少为 1", response.content.decode())
        self.assertFalse(Offer.objects.exists())

    def test_it_refuses_to_open_a_round_without_offers(self) -> None:
        round = self.draft()
        self.login(self.carol)
        response = self.client.post(f"/rounds/{round.pk}/open/")
        self.assertEqual(response.status_code, 400)
        self.assertIn("请先添加至少一个供应套餐", response.content.decode())
        round.refresh_from_db()
        self.assertEqual(round.status, RoundStatus.DRAFT)

    def test_it_opens_and_records_who_and_when(self) -> None:
        round = self.draft()
        with scopes_disabled():
            actions.offer_add(actor=self.carol, round=round, package=self.veg, stock=5)
        self.login(self.carol)
        response = self.client.post(f"/rounds/{round.pk}/open/")
        self.assertRedirects(response, f"/rounds/{round.pk}/")
        round.refresh_from_db()
        self.assertEqual((round.status, round.status_changed_by), ("open", self.carol))
        self.assertIsNotNone(round.status_changed_at)
        self.assertIn("状态改为“接单中”", self.client.get(f"/rounds/{round.pk}/").content.decode())

    def test_it_shares_out_a_fair_round_when_closed(self) -> None:
        round, veg, _rice = self.open_round(intake=Intake.FAIR, stock=1, limit=2)
        with scopes_disabled():
            for name in ("zhang", "li"):
                actions.order_place(
                    actor=self.alice,
                    round=round,
                    household=self.home(name),
                    items=[actions.ItemInput(veg, 2)],
                )
        self.login(self.carol)
        response = self.client.post(f"/rounds/{round.pk}/close/", headers={"HX-Request": "true"})
        self.assertEqual(response.status_code, 200)
        round.refresh_from_db()
        self.assertEqual(round.status, RoundStatus.ALLOCATED)
        with scopes_disabled():
            allocated = list(
                OrderItem.objects.filter(offer=veg).values_list("allocated", flat=True)
            )
        self.assertNotIn(None, allocated)
        self.assertEqual(sum(allocated), 1)
        veg.refresh_from_db()
        self.assertEqual(veg.remaining, 0)

    def test_it_copies_a_round_with_its_offers(self) -> None:
        round, _veg, _rice = self.open_round()
        self.login(self.carol)
        page = self.client.get(f"/rounds/{round.pk}/copy/").content.decode()
        self.assertIn(local(round.opens_at + dt.timedelta(days=2)), page)
        opens = round.opens_at + dt.timedelta(days=2)
        response = self.client.post(f"/rounds/{round.pk}/copy/", {"opens_at": local(opens)})
        copy = SupplyRound.objects.exclude(pk=round.pk).get()
        self.assertRedirects(response, f"/rounds/{copy.pk}/")
        self.assertEqual((copy.status, copy.copied_from), ("draft", round))
        self.assertEqual(copy.delivery_date, round.delivery_date + dt.timedelta(days=2))
        self.assertEqual(
            sorted(copy.offers.values_list("package_id", "stock", "remaining")),
            sorted([(self.veg.pk, 10, 10), (self.rice.pk, 10, 10)]),
        )

    def test_it_lets_community_staff_read_but_not_run_a_street_round(self) -> None:
        with scopes_disabled():
            street_round = make_round(self.dave, street_id=self.street.pk, community_id=None)
            actions.offer_add(actor=self.dave, round=street_round, package=self.veg, stock=5)
        self.login(self.carol)
        self.assertEqual(self.client.get(f"/rounds/{street_round.pk}/").status_code, 200)
        self.assertEqual(self.client.post(f"/rounds/{street_round.pk}/open/").status_code, 403)
        street_round.refresh_from_db()
        self.assertEqual(street_round.status, RoundStatus.DRAFT)

    def test_it_shows_a_supplier_only_its_own_offers(self) -> None:
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
        self.supplier.accounts.add(self.sam)
        self.login(self.sam)
        page = self.client.get("/rounds/").content.decode()
        self.assertIn(f"/rounds/{round.pk}/", page)
        self.assertNotIn(f"/rounds/{hidden.pk}/", page)
        page = self.client.get(f"/rounds/{round.pk}/").content.decode()
        self.assertIn("蔬菜包", page)
        self.assertNotIn("鸡蛋30枚", page)
        self.assertNotIn("offer-form", page)
        self.assertEqual(self.client.get(f"/rounds/{hidden.pk}/").status_code, 404)
