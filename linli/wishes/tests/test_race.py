"""Races on the real database with real threads: 200 people pressing 认领 on one wish at once
(repeated), and 30 claimers racing for 45 wishes with a limit of 2 each."""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections import Counter
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.test import TransactionTestCase
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.registry.models import Community, Household, Street
from linli.test import make_place, make_user
from linli.wishes import actions
from linli.wishes.choices import WishStatus
from linli.wishes.models import Claimer, Wish, WishBatch, WishClaim, WishEvent
from linli.workforce.tests.test_race import run_at_once

CLAIMERS_AT_ONCE = 200
ROUNDS = 3


class ClaimRaceTest(TransactionTestCase):
    def setUp(self) -> None:
        with scopes_disabled():
            street = Street.objects.create(name="和平街道", code="heping")
            self.community = Community.objects.create(street=street, name="阳光社区", code="yg")
            unit = make_place(self.community, "阳光小区", "1号楼", "1单元")
            self.staff = make_user("carol", "community_staff", community=self.community)
            self.households = []
            for room in range(11):
                household = Household(room=f"{101 + room}")
                household.place_in(unit)
                household.save()
                self.households.append(household)

    def batch_of(self, count: int, *, limit: int) -> tuple[WishBatch, list[Wish]]:
        with scopes_disabled():
            wishes = []
            for n in range(count):
                wish = actions.wish_collect(
                    actor=self.staff,
                    data=actions.WishInput(
                        household=self.households[n % len(self.households)],
                        recipient="一位低保户老人",
                        item=f"心愿物品{n}",
                        value_fen=5000,
                    ),
                )
                wishes.append(actions.wish_approve(actor=self.staff, wish=wish))
            batch = actions.batch_create(
                actor=self.staff,
                community=self.community,
                title="冬日微心愿",
                deliver_by=timezone.localdate() + dt.timedelta(days=7),
                per_claimer_limit=limit,
            )
            actions.batch_add(actor=self.staff, batch=batch, wishes=wishes)
            actions.batch_publish(actor=self.staff, batch=batch)
            return batch, list(Wish.objects.filter(batch=batch).order_by("number"))

    def test_it_gives_one_wish_to_exactly_one_of_two_hundred_claimers_every_time(self) -> None:
        for round_number in range(ROUNDS):
            batch, (wish,) = self.batch_of(1, limit=2)

            outcomes = run_at_once(
                [
                    functools.partial(
                        actions.wish_claim,
                        batch=batch,
                        wish_id=wish.pk,
                        data=actions.ClaimInput(
                            name=f"党员{n}",
                            phone=f"139{round_number}{n:07d}",
                            work_unit="区税务局",
                        ),
                    )
                    for n in range(CLAIMERS_AT_ONCE)
                ]
            )

            won = [o for o in outcomes if isinstance(o, actions.Claimed)]
            refused = [o for o in outcomes if isinstance(o, ValidationError)]
            others = [o for o in outcomes if not isinstance(o, actions.Claimed | ValidationError)]
            self.assertEqual(others, [])
            self.assertEqual(len(won), 1)
            self.assertEqual(len(refused), CLAIMERS_AT_ONCE - 1)
            for error in refused:
                self.assertEqual(
                    error.message_dict["wish"], ["这个心愿已被他人认领，请选择其他心愿"]
                )
            with scopes_disabled():
                wish.refresh_from_db()
                self.assertEqual(wish.status, WishStatus.CLAIMED)
                self.assertEqual(wish.claimer_id, won[0].claim.claimer_id)
                self.assertEqual(WishClaim.objects.filter(wish=wish).count(), 1)
                self.assertEqual(
                    WishEvent.objects.filter(wish=wish, to_status=WishStatus.CLAIMED).count(), 1
                )
                # Only the winner holds a count; every loser's counter was rolled back.
                counts = list(
                    Claimer.objects.filter(batch=batch).values_list("claim_count", flat=True)
                )
                self.assertEqual(sorted(counts), [1])

    def test_it_lets_thirty_claimers_race_for_forty_five_wishes_within_their_limit(self) -> None:
        batch, wishes = self.batch_of(45, limit=2)
        rng = random.Random(7)
        jobs: list[Callable[[], object]] = []
        for person in range(30):
            # Each presses on four wishes at once (double taps included), wanting more than 2.
            for wish in [*rng.sample(wishes, 3), wishes[person % 45]]:
                jobs.append(
                    functools.partial(
                        actions.wish_claim,
                        batch=batch,
                        wish_id=wish.pk,
                        data=actions.ClaimInput(
                            name=f"党员{person}",
                            phone=f"1380000{person:04d}",
                            work_unit=["区税务局", "市第三中学", "燃气公司"][person % 3],
                        ),
                    )
                )
        rng.shuffle(jobs)

        outcomes = run_at_once(jobs)

        others = [o for o in outcomes if not isinstance(o, actions.Claimed | ValidationError)]
        self.assertEqual(others, [])
        won = [o for o in outcomes if isinstance(o, actions.Claimed)]
        with scopes_disabled():
            held = list(
                Wish.objects.filter(batch=batch, status=WishStatus.CLAIMED).values_list(
                    "pk", "claimer_id"
                )
            )
            live = list(
                WishClaim.objects.filter(wish__batch=batch, released_at=None).values_list(
                    "wish_id", flat=True
                )
            )
            per_claimer = Counter(claimer for _wish, claimer in held)
            self.assertEqual(len(won), len(held))
            self.assertEqual(len(live), len(set(live)), "a wish claimed twice")
            self.assertEqual(sorted(live), sorted(pk for pk, _c in held))
            self.assertLessEqual(max(per_claimer.values()), 2)
            for claimer in Claimer.objects.filter(batch=batch):
                self.assertEqual(claimer.claim_count, per_claimer.get(claimer.pk, 0))
                self.assertLessEqual(claimer.claim_count, 2)
            # A claimer whose every press lost leaves no row: the claim rolled back whole.
            self.assertTrue(all(n >= 1 for n in per_claimer.values()))
            self.assertLessEqual(Claimer.objects.filter(batch=batch).count(), 30)
            self.assertGreater(len(held), 0)
