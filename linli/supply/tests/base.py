"""A supplier with packages and an open round for the test world's community."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.registry.models import Household
from linli.supply import actions
from linli.supply.choices import Category, Intake, RoundScope, SupplierKind
from linli.supply.models import Offer, Package, Supplier, SupplyRound
from linli.test import BaseTestCase


def make_supplier(street_id: int, name: str = "惠民生鲜配送") -> Supplier:
    return Supplier.objects.create(street_id=street_id, name=name, kind=SupplierKind.SUPPLIER)


def make_package(supplier: Supplier, name: str, category: str, grams: int, fen: int) -> Package:
    return Package.objects.create(
        supplier=supplier, name=name, category=category, net_weight_g=grams, price_fen=fen
    )


def make_round(
    actor: User, *, street_id: int, community_id: int | None, intake: str = Intake.FIRST_COME
) -> SupplyRound:
    now = timezone.now()
    return actions.round_create(
        actor=actor,
        street_id=street_id,
        data=actions.RoundInput(
            title="第一轮保供",
            scope=RoundScope.COMMUNITY if community_id else RoundScope.STREET,
            community_id=community_id,
            opens_at=now - dt.timedelta(hours=1),
            closes_at=now + dt.timedelta(hours=5),
            delivery_date=(now + dt.timedelta(days=1)).date(),
            intake=intake,
        ),
    )


class SupplyTestCase(BaseTestCase):
    supplier: Supplier
    veg: Package
    rice: Package

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.supplier = make_supplier(cls.street.pk)
        cls.veg = make_package(cls.supplier, "蔬菜包", Category.VEGETABLES, 5000, 4800)
        cls.rice = make_package(cls.supplier, "米面油套餐", Category.GRAIN_OIL, 10000, 9900)

    def open_round(
        self, *, intake: str = Intake.FIRST_COME, stock: int = 10, limit: int = 2
    ) -> tuple[SupplyRound, Offer, Offer]:
        with scopes_disabled():
            round = make_round(
                self.carol, street_id=self.street.pk, community_id=self.community.pk, intake=intake
            )
            veg = actions.offer_add(
                actor=self.carol,
                round=round,
                package=self.veg,
                stock=stock,
                per_household_limit=limit,
            )
            rice = actions.offer_add(
                actor=self.carol,
                round=round,
                package=self.rice,
                stock=stock,
                per_household_limit=limit,
            )
            actions.round_open(actor=self.carol, round=round)
        return round, veg, rice

    def home(self, resident_attr: str) -> Household:
        with scopes_disabled():
            return Household.objects.select_related("unit__building", "community").get(
                pk=getattr(self, resident_attr).household_id
            )
