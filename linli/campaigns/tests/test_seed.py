"""The demo campaign: made once, with a round, an import and exemptions."""

from __future__ import annotations

from django.test import override_settings
from django_scopes import scopes_disabled

from linli.campaigns import reconcile
from linli.campaigns import seed as campaign_seed
from linli.campaigns.models import Campaign, SampleImport
from linli.registry import seed
from linli.test import BaseTestCase

PASSWORD = "seed-test-password"


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class CampaignSeedTests(BaseTestCase):
    def test_it_seeds_a_round_with_an_imported_batch_once(self) -> None:
        seed.seed(tier="community", password=PASSWORD, households=60)
        counts = campaign_seed.seed(tier="community", password=PASSWORD)
        self.assertEqual(campaign_seed.seed(tier="community", password=PASSWORD), {})
        with scopes_disabled():
            campaign = Campaign.objects.get(name=campaign_seed.DEMO_NAME)
            the_round = campaign.rounds.get()
            batch = SampleImport.objects.get(round=the_round)
            figures = reconcile.round_figures(the_round, the_round.records.all())
            self.assertEqual(campaign.points.count(), 2)
            self.assertEqual(campaign.exemptions.count(), 2)
        self.assertEqual(counts["unmatched"], 4)  # 3 visitors and a typo
        self.assertEqual(batch.duplicates, 1)
        self.assertGreater(figures.reached, 0)
        self.assertGreater(figures.missing, 0)
        self.assertEqual(figures.exempted, 2)
