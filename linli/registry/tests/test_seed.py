"""The demo seeder: shape and realism of the data, personal numbers, accounts, idempotence."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import RequestFactory, override_settings
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib.identity import check_id_number, check_mobile
from linli.registry import scope, seed
from linli.registry.choices import CareTag, Relation
from linli.registry.models import (
    Building,
    CareProfile,
    CareTagAssignment,
    Community,
    EmergencyContact,
    Gate,
    Grid,
    Household,
    Resident,
    Street,
    UserArea,
)
from linli.test import BaseTestCase

HOUSEHOLDS = 60
PASSWORD = "seed-test-password"


def seeded_residents() -> list[Resident]:
    with scopes_disabled():
        return list(
            Resident.objects.filter(household__community__code="wutong").select_related("household")
        )


# The seeder hashes one password for all accounts; a fast hasher keeps the logins quick.
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class ScaledSeedTests(BaseTestCase):
    report: seed.SeedReport

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.report = seed.seed(tier="community", password=PASSWORD, households=HOUSEHOLDS)

    def test_it_builds_a_community_of_six_grids(self) -> None:
        self.assertTrue(self.report.created)
        with scopes_disabled():
            street = Street.objects.get(code="cuiping")
            community = Community.objects.get(street=street)
            self.assertEqual(Grid.objects.filter(community=community).count(), 6)
            households = Household.objects.filter(community=community)
            self.assertEqual(households.count(), HOUSEHOLDS)
            # Every grid covers buildings, and every household has the grid of its building.
            self.assertEqual(
                Building.objects.filter(compound__community=community)
                .values("grid")
                .distinct()
                .count(),
                6,
            )
            for household in households.select_related("unit__building__compound"):
                self.assertEqual(household.grid_id, household.unit.building.grid_id)
                self.assertTrue(household.address.startswith(household.unit.building.compound.name))
                self.assertRegex(household.room, r"^\d{3,4}$")
            self.assertGreater(Gate.objects.filter(compound__community=community).count(), 2)
        residents = seeded_residents()
        self.assertGreater(len(residents), 2 * HOUSEHOLDS)
        self.assertLess(len(residents), 4 * HOUSEHOLDS)
        heads = Counter(r.household_id for r in residents if r.relation == Relation.HEAD)
        self.assertEqual(len(heads), HOUSEHOLDS)
        self.assertEqual(set(heads.values()), {1})

    def test_it_puts_every_care_tag_on_the_register(self) -> None:
        with scopes_disabled():
            tags = set(
                CareTagAssignment.objects.filter(
                    resident__household__community__code="wutong"
                ).values_list("tag", flat=True)
            )
            self.assertEqual(tags, set(CareTag.values))
            on_register = Resident.objects.filter(household__community__code="wutong").on_register()
            profiles = CareProfile.objects.filter(resident__in=on_register)
            self.assertEqual(profiles.count(), on_register.count())
            self.assertTrue(all(p.ltc_level in (None, 1, 2, 3, 4, 5, 6) for p in profiles))
            contacts = Counter(
                EmergencyContact.objects.filter(resident__in=on_register).values_list(
                    "resident_id", flat=True
                )
            )
            self.assertEqual(len(contacts), on_register.count())
            self.assertLessEqual(max(contacts.values()), 2)
            for contact in EmergencyContact.objects.filter(resident__in=on_register):
                self.assertEqual(check_mobile(contact.phone).errors, [])
            infants = Resident.objects.with_tag(CareTag.INFANT)
            self.assertTrue(all((r.age or 0) < 3 for r in infants))

    def test_it_gives_everyone_a_valid_unique_id_number_that_matches_sex_and_birth(self) -> None:
        residents = seeded_residents()
        for resident in residents:
            checked = check_id_number(resident.id_number)
            self.assertEqual(checked.errors, [], resident.name)
            self.assertEqual(checked.sex, resident.sex, resident.name)
            self.assertEqual(checked.birth_date, resident.birth_date, resident.name)
            self.assertEqual(check_mobile(resident.phone or "").errors, [], resident.name)
        self.assertEqual(len({r.id_number_index for r in residents}), len(residents))
        self.assertTrue(all(r.name_search for r in residents))

    def test_it_keeps_no_plaintext_id_or_phone_in_the_table(self) -> None:
        residents = seeded_residents()
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number, phone FROM registry_resident")
            rows = cursor.fetchall()
        raw = repr(rows)
        self.assertNotRegex(raw, r"\d{17}[\dX]")
        self.assertNotRegex(raw, r"1\d{10}")
        for resident in residents:
            self.assertNotIn(resident.id_number, raw)
            if resident.phone:
                self.assertNotIn(resident.phone, raw)

    def test_it_lets_every_demo_account_log_in(self) -> None:
        usernames = seed.demo_usernames(seed.plan_for("community"))
        self.assertEqual(len(usernames), 14)
        for username in usernames:
            # django-axes wants the request the login comes with.
            request = RequestFactory().post("/login/")
            logged_in = self.client.login(request=request, username=username, password=PASSWORD)
            self.assertTrue(logged_in, username)
            self.client.logout()
        self.assertTrue(User.objects.get(username="admin").is_superuser)

    def test_it_gives_the_staff_accounts_their_areas(self) -> None:
        with scopes_disabled():
            community = Community.objects.get(code="wutong")
            street_area = UserArea.objects.select_related("street").get(
                user__username="street_admin"
            )
            self.assertEqual(street_area.street, Street.objects.get(code="cuiping"))
            for username in ("community_staff", "hotline_operator", "checkpoint_keeper_1"):
                self.assertEqual(UserArea.objects.get(user__username=username).community, community)
            for n in range(1, 7):
                worker = User.objects.get(username=f"grid_worker_{n}")
                self.assertEqual(worker.role, Role.GRID_WORKER)
                self.assertEqual(
                    list(Grid.objects.filter(workers=worker).values_list("code", flat=True)),
                    [f"g{n}"],
                )
        worker = User.objects.get(username="grid_worker_1")
        with scope.activate_for(worker):
            visible = Household.objects.all()
            self.assertGreater(visible.count(), 0)
            self.assertEqual(set(visible.values_list("grid__code", flat=True)), {"g1"})
        with scope.activate_for(User.objects.get(username="community_staff")):
            self.assertEqual(Household.objects.count(), HOUSEHOLDS)

    def test_it_links_resident_1_to_a_resident_of_grid_1(self) -> None:
        user = User.objects.get(username="resident_1")
        self.assertEqual(user.role, Role.RESIDENT)
        with scopes_disabled():
            resident = Resident.objects.select_related("household__grid").get(user=user)
        assert resident.household.grid is not None
        self.assertEqual(resident.household.grid.code, "g1")
        self.assertEqual(resident.household.community.code, "wutong")
        self.assertEqual(user.display_name, resident.name)

    def test_it_does_not_seed_a_tier_twice(self) -> None:
        def counts() -> tuple[int, ...]:
            with scopes_disabled():
                return (
                    Street.objects.count(),
                    Household.objects.count(),
                    Resident.objects.count(),
                    CareTagAssignment.objects.count(),
                    EmergencyContact.objects.count(),
                    User.objects.count(),
                    UserArea.objects.count(),
                )

        before = counts()
        again = seed.seed(tier="community", password="other", households=HOUSEHOLDS)
        self.assertFalse(again.created)
        self.assertEqual(counts(), before)
        self.assertTrue(User.objects.get(username="admin").check_password(PASSWORD))

    def test_it_makes_the_same_people_from_the_same_seed(self) -> None:
        def people(seed_text: str) -> list[tuple[str, str, dt.date, str]]:
            maker = seed.PeopleMaker(random.Random(seed_text), dt.date(2026, 11, 24))
            made = [p for kind in seed.HOUSEHOLD_KINDS for p in maker.household(kind)]
            return [(p.name, p.sex, p.birth, p.phone) for p in made]

        self.assertEqual(people("linli"), people("linli"))
        self.assertNotEqual(people("linli"), people("other"))

    def test_it_prints_the_accounts_table_again_when_already_seeded(self) -> None:
        out = StringIO()
        call_command("seed", tier="community", password=PASSWORD, stdout=out)
        text = out.getvalue()
        self.assertIn("已经存在", text)
        for username in ("street_admin", "grid_worker_6", "resident_1", "supplier_1"):
            self.assertIn(username, text)
        self.assertIn("网格员", text)
        self.assertIn("梧桐社区第一网格", text)

    def test_it_refuses_an_unknown_tier(self) -> None:
        with self.assertRaises(ValueError):
            seed.seed(tier="city")
        with self.assertRaises(CommandError):
            call_command("seed", tier="city", stdout=StringIO())


class CommunityTierTests(BaseTestCase):
    """The real community tier, through the command (a few seconds on SQLite)."""

    def test_it_seeds_the_community_tier_from_the_command(self) -> None:
        out = StringIO()
        call_command("seed", tier="community", stdout=out)
        text = out.getvalue()
        self.assertIn("2265 户", text)
        self.assertIn("linli-demo", text)
        residents = seeded_residents()
        self.assertGreater(len(residents), 6500)
        self.assertLess(len(residents), 7500)
        with scopes_disabled():
            self.assertEqual(Household.objects.filter(community__code="wutong").count(), 2265)
            self.assertEqual(
                Building.objects.filter(compound__community__code="wutong").count(), 40
            )
            self.assertEqual(Grid.objects.filter(community__code="wutong").count(), 6)
            on_register = (
                Resident.objects.filter(household__community__code="wutong").on_register().count()
            )
        self.assertAlmostEqual(on_register / len(residents), 0.05, delta=0.01)
        elderly = sum(1 for r in residents if (r.age or 0) >= 60)
        self.assertGreater(elderly / len(residents), 0.2)
        # Some older residents carry retired region codes: a warning, never an error.
        warned = [r for r in residents if check_id_number(r.id_number).warnings]
        self.assertGreater(len(warned), 10)
        self.assertLess(len(warned), len(residents) * 0.05)
        self.assertTrue(any(r.id_number.startswith("440307194") for r in residents))
        self.assertTrue(all(not check_id_number(r.id_number).errors for r in warned))
        # Surnames with several readings are there to be found by either.
        with scope.activate(scope.Area(communities=None)):
            self.assertTrue(Resident.objects.search("zeng").filter(name__startswith="曾").exists())
