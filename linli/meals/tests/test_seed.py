"""The demo seed: the town's policy, a canteen, every covered resident enrolled, a week of
meals and today's list; idempotent."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.meals import seed as meals_seed
from linli.meals.daily import daily_list
from linli.meals.eligibility import eligible_residents
from linli.meals.models import Canteen, MealDelivery, MealEnrolment, MealPolicy
from linli.registry import seed
from linli.registry.models import Resident
from linli.test import BaseTestCase

PASSWORD = "seed-test-password"


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class MealSeedTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed.seed(tier="community", password=PASSWORD, households=300)
        meals_seed.seed(tier="community", password=PASSWORD)

    def test_it_enrols_the_residents_the_policy_covers_and_has_todays_list(self) -> None:
        with scopes_disabled():
            policy = MealPolicy.objects.get(community__street__code="cuiping")
            self.assertEqual((policy.min_age, policy.min_ltc_level), (80, 5))
            canteen = Canteen.objects.get(community=policy.community)
            enrolled = set(MealEnrolment.objects.values_list("resident_id", flat=True))
            today = timezone.localdate()
            start = today - dt.timedelta(days=meals_seed.HISTORY_DAYS)
            covered = set(
                eligible_residents(
                    Resident.objects.filter(household__community=policy.community), [policy], start
                ).values_list("pk", flat=True)
            )
            self.assertTrue(enrolled)
            self.assertEqual(enrolled, covered)
            listed = daily_list(canteen, today)
            self.assertGreater(listed.lunch, 0)
            self.assertTrue(MealDelivery.objects.filter(status="delivered").exists())

    def test_it_seeds_once(self) -> None:
        with scopes_disabled():
            before = MealEnrolment.objects.count()
            self.assertEqual(meals_seed.seed(tier="community", password=PASSWORD), 0)
            self.assertEqual(MealEnrolment.objects.count(), before)
