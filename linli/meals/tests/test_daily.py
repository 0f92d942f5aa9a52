"""Enrolment rules, the day's lists (counts by diet, by compound and building), delivery
tasks per building, and delivered or missed meals (a miss raises a care call)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.care.models import CheckIn
from linli.meals import actions
from linli.meals.choices import DeliveryStatus, Diet, Meal
from linli.meals.daily import DailyList, daily_list
from linli.meals.figures import meal_figures
from linli.meals.models import MealDelivery, MealDeliveryTask, MealEnrolment
from linli.meals.tests.base import TODAY, MealsTestCase
from linli.registry.scope import activate_for
from linli.workforce import actions as workforce
from linli.workforce.choices import TaskKind
from linli.workforce.models import TaskStop, Volunteer


class EnrolmentTests(MealsTestCase):
    def test_it_enrols_a_covered_resident_with_diets(self) -> None:
        enrolment = self.enrol(
            self.exactly80, diets=[Diet.SOFT], diet_notes="不吃香菜", dinner=True
        )
        with scopes_disabled():
            saved = MealEnrolment.objects.get(pk=enrolment.pk)
        self.assertEqual(saved.meals, [Meal.LUNCH, Meal.DINNER])
        self.assertEqual(saved.diet_labels, ["软食"])
        self.assertEqual(saved.diet_notes, "不吃香菜")
        self.assertEqual(saved.created_by, self.carol)

    def test_it_refuses_a_resident_the_policy_does_not_cover_and_says_why(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.enrol(self.almost80)
        self.assertIn("不符合本社区爱心餐资格规则", caught.exception.message_dict["resident"][0])
        self.assertIn("可先登记申请并审核通过", caught.exception.message_dict["resident"][0])
        with scopes_disabled():
            self.assertFalse(MealEnrolment.objects.exists())

    def test_it_refuses_an_overlapping_enrolment(self) -> None:
        self.enrol(self.exactly80)
        with self.assertRaises(ValidationError) as caught:
            self.enrol(self.exactly80, starts_on=TODAY + dt.timedelta(days=3))
        self.assertIn("starts_on", caught.exception.message_dict)

    def test_it_refuses_a_canteen_of_another_community_and_a_full_one(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.enrol(self.exactly80, canteen=self.canteen_b)
        self.assertIn("canteen", caught.exception.message_dict)
        with scopes_disabled():
            small = actions.canteen_save(
                actor=self.carol, community=self.community, name="小食堂", capacity=1
            )
        self.enrol(self.exactly80, canteen=small)
        with self.assertRaises(ValidationError) as caught:
            self.enrol(self.ltc5, canteen=small)
        self.assertIn("名额已满", caught.exception.message_dict["canteen"][0])

    def test_it_ends_an_enrolment_and_keeps_who_and_why(self) -> None:
        enrolment = self.enrol(self.exactly80)
        with scopes_disabled():
            actions.enrolment_end(
                actor=self.carol,
                enrolment=enrolment,
                ends_on=TODAY,
                reason="住院",
            )
            saved = MealEnrolment.objects.get()
        self.assertEqual((saved.ends_on, saved.end_reason), (TODAY, "住院"))
        self.assertFalse(saved.active_on(TODAY + dt.timedelta(days=1)))


class DailyListTests(MealsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.a = self.enrol(self.exactly80, diets=[Diet.SOFT], dinner=True)  # 1号楼 1单元
        self.b = self.enrol(self.ltc5, diets=[Diet.SOFT, Diet.DIABETIC])  # 1号楼 2单元
        self.c = self.enrol(self.dibao)  # 2号楼
        self.d = self.enrol(self.old_and_ltc6, diets=[Diet.NO_PORK], dinner=True)  # 2号楼
        self.e = self.enrol(self.approved, lunch=False, dinner=True)  # 3号楼
        # Ended yesterday, and one not yet started: neither is on today's list.
        with scopes_disabled():
            enrolment = actions.enrolment_create(
                actor=self.carol,
                resident=self.b_old95,
                data=actions.EnrolmentInput(canteen=self.canteen_b, starts_on=TODAY),
            )
            actions.enrolment_end(actor=self.carol, enrolment=enrolment, ends_on=TODAY, reason="x")

    def listed(self, user: User | None = None) -> DailyList:
        with activate_for(user or self.carol):
            return daily_list(self.canteen, TODAY)

    def test_it_counts_meals_by_diet(self) -> None:
        listed = self.listed()
        counts = {c.label: (c.lunch, c.dinner) for c in listed.counts}
        self.assertEqual(
            counts,
            {
                "普通餐": (1, 1),  # 褚低保 lunch; 蒋申请 dinner
                "软食": (1, 1),  # 周满八
                "软食+糖尿病餐": (1, 0),  # 吴长护
                "清真/不吃猪肉": (1, 1),  # 卫双条
            },
        )
        self.assertEqual((listed.lunch, listed.dinner), (4, 3))

    def test_it_groups_by_compound_and_building(self) -> None:
        listed = self.listed()
        self.assertEqual(
            [(g.name, g.lunch, g.dinner) for g in listed.compounds],
            [("阳光小区", 4, 3)],
        )
        self.assertEqual(
            [(g.name, [r.resident.name for r in g.rows]) for g in listed.buildings],
            [
                ("阳光小区1号楼", ["周满八", "吴长护"]),
                ("阳光小区2号楼", ["褚低保", "卫双条"]),
                ("阳光小区3号楼", ["蒋申请"]),
            ],
        )

    def test_it_shows_a_grid_worker_only_their_grid(self) -> None:
        names = [r.resident.name for r in self.listed(self.alice).rows]
        self.assertEqual(names, ["周满八", "吴长护"])

    def test_it_leaves_off_someone_who_no_longer_lives_here(self) -> None:
        from linli.registry import actions as registry

        with scopes_disabled():
            registry.resident_update(
                actor=self.carol, resident=self.dibao, values={"living_status": "in_hospital"}
            )
        listed = self.listed()
        self.assertEqual([r.resident.name for r in listed.not_living], ["褚低保"])
        self.assertEqual(listed.lunch, 3)

    def test_it_makes_one_task_per_building_and_door_once(self) -> None:
        with activate_for(self.carol):
            created = actions.delivery_tasks_create(
                actor=self.carol, canteen=self.canteen, day=TODAY, meal=Meal.LUNCH
            )
            again = actions.delivery_tasks_create(
                actor=self.carol, canteen=self.canteen, day=TODAY, meal=Meal.LUNCH
            )
        self.assertEqual(again, [])
        with scopes_disabled():
            self.assertEqual(MealDeliveryTask.objects.count(), 2)  # 3号楼 eats dinner only
            tasks = [link.task for link in created]
            self.assertEqual({t.kind for t in tasks}, {TaskKind.DELIVERY_BUNDLE})
            stops = TaskStop.objects.filter(task__in=tasks).order_by("address")
            self.assertEqual(
                [(s.address, s.items) for s in stops],
                [
                    ("阳光小区1号楼1单元201", "爱心餐·午餐 ×1"),
                    ("阳光小区1号楼2单元101", "爱心餐·午餐 ×1"),
                    ("阳光小区2号楼1单元303", "爱心餐·午餐 ×1"),
                    ("阳光小区2号楼1单元304", "爱心餐·午餐 ×1"),
                ],
            )
            # A volunteer's door carries no name and no diet.
            self.assertFalse(any("软食" in s.items or "周" in s.items for s in stops))

    def test_it_records_meals_from_the_tasks_doors(self) -> None:
        with activate_for(self.carol):
            actions.delivery_tasks_create(
                actor=self.carol, canteen=self.canteen, day=TODAY, meal=Meal.LUNCH
            )
        with scopes_disabled():
            stops = {s.address: s for s in TaskStop.objects.all()}
            # Dispatchers may mark doors for a volunteer without a phone.
            task = stops["阳光小区1号楼1单元201"].task
            volunteer = _volunteer(self)
            workforce.task_assign(actor=self.carol, task=task, volunteer=volunteer)
            workforce.task_accept(actor=volunteer.user, task=task)
            workforce.task_start(actor=volunteer.user, task=task)
            workforce.stop_left_at_door(actor=volunteer.user, stop=stops["阳光小区1号楼1单元201"])
            workforce.stop_fail(
                actor=volunteer.user, stop=stops["阳光小区1号楼2单元101"], reason="敲门无人应答"
            )
        with activate_for(self.carol):
            outcome = actions.deliveries_from_tasks(
                actor=self.carol, canteen=self.canteen, day=TODAY, meal=Meal.LUNCH
            )
        self.assertEqual((outcome.delivered, outcome.missed), (1, 1))
        with scopes_disabled():
            recorded = {(d.resident.name, d.status, d.reason) for d in MealDelivery.objects.all()}
            self.assertEqual(
                recorded,
                {("周满八", "delivered", ""), ("吴长护", "missed", "敲门无人应答")},
            )
            self.assertEqual(CheckIn.objects.filter(resident=self.ltc5).count(), 1)


def _volunteer(case: MealsTestCase) -> Volunteer:
    from linli.lib.identity import compose_id_number
    from linli.test import PASSWORD

    volunteer = workforce.volunteer_signup(
        community=case.community,
        data=workforce.SignupInput(
            name="韦拉",
            phone="13700001111",
            id_number=compose_id_number("110101", dt.date(1990, 5, 4), 700),
            password=PASSWORD,
        ),
    )
    return workforce.volunteer_review(actor=case.carol, volunteer=volunteer, status="verified")


class MissedMealTests(MealsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.enrolment = self.enrol(self.exactly80)

    def record(self, status: str, reason: str = "", day: dt.date = TODAY) -> MealDelivery:
        with activate_for(self.alice):
            return actions.delivery_record(
                actor=self.alice,
                enrolment=self.enrolment,
                day=day,
                meal=Meal.LUNCH,
                status=status,
                reason=reason,
            )

    def test_it_asks_the_grid_worker_to_call_when_a_meal_is_missed(self) -> None:
        delivery = self.record(DeliveryStatus.MISSED, "敲门无人应答")
        with scopes_disabled():
            check_in = CheckIn.objects.get(resident=self.exactly80)
        self.assertEqual(delivery.check_in_id, check_in.pk)
        self.assertEqual(check_in.due, TODAY)
        self.assertIn("爱心餐未送达", check_in.reason)
        self.assertIn("敲门无人应答", check_in.reason)

    def test_it_raises_one_call_per_miss_and_keeps_it_when_corrected(self) -> None:
        self.record(DeliveryStatus.MISSED, "敲门无人应答")
        self.record(DeliveryStatus.MISSED, "敲门无人应答")
        self.record(DeliveryStatus.DELIVERED)
        with scopes_disabled():
            self.assertEqual(CheckIn.objects.filter(resident=self.exactly80).count(), 1)
            delivery = MealDelivery.objects.get()
        self.assertEqual((delivery.status, delivery.reason), ("delivered", ""))
        self.assertIsNotNone(delivery.check_in_id)

    def test_it_does_not_call_for_a_delivered_meal(self) -> None:
        self.record(DeliveryStatus.DELIVERED)
        with scopes_disabled():
            self.assertFalse(CheckIn.objects.filter(resident=self.exactly80).exists())

    def test_it_refuses_a_miss_without_reason_a_future_day_and_a_meal_not_enrolled(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.record(DeliveryStatus.MISSED)
        self.assertIn("reason", caught.exception.message_dict)
        with self.assertRaises(ValidationError) as caught:
            self.record(DeliveryStatus.DELIVERED, day=TODAY + dt.timedelta(days=1))
        self.assertIn("day", caught.exception.message_dict)
        with activate_for(self.carol), self.assertRaises(ValidationError) as caught:
            actions.delivery_record(
                actor=self.carol,
                enrolment=self.enrolment,
                day=TODAY,
                meal=Meal.DINNER,
                status=DeliveryStatus.DELIVERED,
            )
        self.assertIn("meal", caught.exception.message_dict)
        with scopes_disabled():
            self.assertFalse(MealDelivery.objects.exists())
            self.assertFalse(CheckIn.objects.exists())

    def test_it_counts_meals_per_day_and_people_served(self) -> None:
        self.enrol(self.ltc5, dinner=True)
        self.record(DeliveryStatus.DELIVERED)
        with activate_for(self.carol):
            actions.deliveries_record_rest(
                actor=self.carol, canteen=self.canteen, day=TODAY, meal=Meal.LUNCH
            )
            from linli.meals.access import visible_deliveries, visible_enrolments

            found = meal_figures(
                visible_enrolments(self.carol),
                visible_deliveries(self.carol),
                TODAY - dt.timedelta(days=1),
                TODAY,
            )
        self.assertEqual(
            [(d.planned_lunch, d.planned_dinner, d.delivered, d.missed) for d in found.days],
            [(0, 0, 0, 0), (2, 1, 2, 0)],
        )
        self.assertEqual((found.people_served, found.enrolled), (2, 2))
