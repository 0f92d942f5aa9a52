"""The demo tickets `linli seed` adds: a few dozen across statuses, each with its timeline."""

from __future__ import annotations

from django.test import override_settings
from django_scopes import scopes_disabled

from linli.hotline import seed as hotline_seed
from linli.hotline.choices import TicketStatus
from linli.hotline.models import Ticket, TicketEvent
from linli.registry import seed
from linli.test import BaseTestCase

PASSWORD = "seed-test-password"


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class HotlineSeedTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed.seed(tier="community", password=PASSWORD, households=60)
        seed.seed_installed_apps(tier="community", password=PASSWORD, stdout=None)

    def test_it_makes_tickets_across_statuses_with_timelines(self) -> None:
        with scopes_disabled():
            statuses = set(Ticket.objects.values_list("status", flat=True))
            count = Ticket.objects.count()
            self.assertFalse(Ticket.objects.filter(events__isnull=True).exists())
            self.assertTrue(TicketEvent.objects.exists())
        self.assertGreaterEqual(count, 30)
        self.assertEqual(statuses, set(TicketStatus.values))

    def test_it_does_not_seed_twice(self) -> None:
        with scopes_disabled():
            before = Ticket.objects.count()
        self.assertEqual(hotline_seed.seed(tier="community", password=PASSWORD), 0)
        with scopes_disabled():
            self.assertEqual(Ticket.objects.count(), before)
