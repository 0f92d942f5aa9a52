"""Who a policy covers, against a list worked out by hand from the seeded world."""

from __future__ import annotations

import datetime as dt

from django_scopes import scopes_disabled

from linli.meals.eligibility import age_cutoff, eligible_residents, explain
from linli.meals.models import MealApplication, MealPolicy
from linli.meals.tests.base import TODAY, MealsTestCase
from linli.registry.models import Resident
from linli.registry.scope import activate_for


class EligibilityTests(MealsTestCase):
    def covered(self, user: object) -> dict[str, list[str]]:
        with activate_for(user):  # type: ignore[arg-type]
            policies = list(MealPolicy.objects.all())
            found = eligible_residents(Resident.objects.all(), policies, TODAY)
            return {row.name: row.reasons for row in explain(found, policies, TODAY)}

    def test_it_equals_the_hand_computed_list_for_the_street(self) -> None:
        # 阳光社区: age ≥ 80 or ltc ≥ 5 or 低保 or an approved application.
        # 星河社区: age ≥ 90 only. 远方社区 is another street.
        with scopes_disabled():
            approved = MealApplication.objects.get(resident=self.approved).pk
        expected = {
            "周满八": ["年满80周岁（80岁）"],  # 80 today, to the day
            "吴长护": ["长护险5级"],
            "褚低保": ["低保"],
            "卫双条": ["年满80周岁（85岁）", "长护险6级"],
            "蒋申请": [f"申请已通过（#{approved}）"],
            "杨九五": ["年满90周岁（95岁）"],
        }
        # Not covered: 郑差一天 (79 until tomorrow), 冯已故 (deceased), 陈四级 (level 4),
        # 张建国 (独居 is not one of the tags), 沈待审 and 韩驳回 (not approved),
        # 朱八五 (85 is not 90 in 星河社区), the personas (born 1950).
        self.assertEqual(self.covered(self.dave), expected)

    def test_it_limits_the_list_to_the_users_area(self) -> None:
        self.assertEqual(set(self.covered(self.alice)), {"周满八", "吴长护"})
        self.assertEqual(
            set(self.covered(self.carol)), {"周满八", "吴长护", "褚低保", "卫双条", "蒋申请"}
        )
        self.assertEqual(self.covered(self.victor), {})

    def test_it_covers_the_eighty_year_old_only_from_the_birthday(self) -> None:
        with scopes_disabled():
            policy = MealPolicy.objects.get(community=self.community)
            residents = Resident.objects.filter(pk=self.almost80.pk)
            self.assertFalse(eligible_residents(residents, [policy], TODAY).exists())
            tomorrow = TODAY + dt.timedelta(days=1)
            self.assertTrue(eligible_residents(residents, [policy], tomorrow).exists())

    def test_it_counts_ages_like_the_register_including_leap_days(self) -> None:
        born = dt.date(1944, 2, 29)
        resident = Resident(birth_date=born)
        day = dt.date(2024, 2, 27)
        while day < dt.date(2026, 3, 3):
            for years in (79, 80, 81):
                old_enough = (resident.age_on(day) or 0) >= years
                self.assertEqual(born <= age_cutoff(day, years), old_enough, (day, years))
            day += dt.timedelta(days=1)

    def test_it_covers_no_one_when_every_rule_is_off(self) -> None:
        with scopes_disabled():
            policy = MealPolicy(community=self.community, approved_applications=False)
            self.assertFalse(eligible_residents(Resident.objects.all(), [policy], TODAY).exists())

    def test_it_answers_in_one_query_however_many_communities(self) -> None:
        with scopes_disabled():
            policies = list(MealPolicy.objects.all())
            with self.assertNumQueries(1):
                list(eligible_residents(Resident.objects.all(), policies, TODAY))
