"""The demo wishes `linli seed` adds: 45 wishes from 11 households, one published batch,
some claimed; deterministic and idempotent."""

from __future__ import annotations

from io import StringIO

from django.core.management.base import OutputWrapper
from django.test import override_settings
from django_scopes import scopes_disabled

from linli.registry import seed as registry_seed
from linli.test import BaseTestCase
from linli.wishes import seed
from linli.wishes.choices import BatchStatus, WishStatus
from linli.wishes.models import Claimer, Wish, WishBatch

PASSWORD = "seed-test-password"


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class WishSeedTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        registry_seed.seed(tier="community", password=PASSWORD, households=60)
        cls.counts = seed.seed(tier="community", password=PASSWORD)

    counts: dict[str, int]

    def test_it_seeds_forty_five_wishes_of_eleven_households_one_batch_some_claimed(self) -> None:
        self.assertEqual(self.counts, {"wishes": 45, "households": 11, "claimed": 24})
        with scopes_disabled():
            wishes = Wish.objects.filter(community__code="wutong")
            self.assertEqual(wishes.count(), 45)
            self.assertEqual(wishes.values("household").distinct().count(), 11)
            batch = WishBatch.objects.get(community__code="wutong")
            self.assertEqual(batch.status, BatchStatus.PUBLISHED)
            held = wishes.filter(
                status__in=[WishStatus.CLAIMED, WishStatus.FULFILLED, WishStatus.THANKED]
            )
            self.assertEqual(held.count(), 24)
            self.assertEqual(wishes.filter(status=WishStatus.THANKED).count(), 3)
            self.assertEqual(wishes.filter(status=WishStatus.PUBLISHED).count(), 21)
            for claimer in Claimer.objects.filter(batch=batch):
                self.assertLessEqual(claimer.claim_count, batch.per_claimer_limit)

    def test_it_seeds_once(self) -> None:
        out = StringIO()
        self.assertEqual(
            seed.seed(tier="community", password=PASSWORD, stdout=OutputWrapper(out)), {}
        )
        self.assertIn("已经存在", out.getvalue())
        with scopes_disabled():
            self.assertEqual(Wish.objects.filter(community__code="wutong").count(), 45)
