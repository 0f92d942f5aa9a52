"""The demo data of 关爱回访: plans for the demo community's register, a worked week and a
partly worked today; seeding twice adds nothing."""

from __future__ import annotations

from django.test import override_settings
from django_scopes import scopes_disabled

from linli.care.choices import CheckInStatus
from linli.care.models import CarePlan, CheckIn
from linli.care.seed import seed as care_seed
from linli.registry import seed
from linli.registry.models import Resident
from linli.test import BaseTestCase

PASSWORD = "seed-test-password"


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class CareSeedTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed.seed(tier="community", password=PASSWORD, households=120)
        seed.seed_installed_apps(tier="community", password=PASSWORD, stdout=None)

    def test_it_plans_the_register_and_works_part_of_today(self) -> None:
        with scopes_disabled():
            plans = CarePlan.objects.filter(resident__household__community__code="wutong")
            register = Resident.objects.filter(household__community__code="wutong").on_register()
            assert plans.exists()
            assert plans.count() <= register.count()
            assert not plans.filter(owner=None, resident__household__grid__isnull=False).exists()
            check_ins = CheckIn.objects.filter(community__code="wutong")
            statuses = set(check_ins.values_list("status", flat=True))
            assert CheckInStatus.FINE in statuses
            assert CheckInStatus.PENDING in statuses
            assert check_ins.values("due").distinct().count() >= 2
            before = (plans.count(), check_ins.count())
        assert care_seed(tier="community", password=PASSWORD) == {}
        with scopes_disabled():
            assert (plans.count(), check_ins.count()) == before
