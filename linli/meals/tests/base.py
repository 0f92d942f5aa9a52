"""A small meal-aid world on top of the personas: residents whose ages, long-term-care
levels, tags and applications are chosen so that who a policy covers can be worked out
by hand (see test_eligibility.py for the expected list)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.meals import actions
from linli.meals.choices import ApplicationStatus
from linli.meals.models import Canteen, MealApplication, MealEnrolment
from linli.registry import actions as registry
from linli.registry.choices import CareTag, LivingStatus
from linli.registry.models import Resident
from linli.test import BaseTestCase, make_place, make_resident

# Every test in this app runs on this day (Shanghai): ages below are counted to it.
TODAY = dt.date(2025, 6, 15)
NOON = dt.datetime(2025, 6, 15, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


class MealsTestCase(BaseTestCase):
    canteen: Canteen
    canteen_b: Canteen
    exactly80: Resident
    almost80: Resident
    dead85: Resident
    ltc5: Resident
    ltc4: Resident
    dibao: Resident
    approved: Resident
    pending: Resident
    declined: Resident
    old_and_ltc6: Resident
    b_old95: Resident
    b_old85: Resident
    far_old: Resident

    def setUp(self) -> None:
        super().setUp()
        traveller = time_machine.travel(NOON, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with time_machine.travel(NOON, tick=False), scopes_disabled():
            cls.build_meals_world()

    @classmethod
    def build_meals_world(cls) -> None:
        root = cls.root
        unit1, unit2, unit3 = cls.unit1, cls.unit2, cls.unit_nogrid
        unit1b = make_place(cls.community, "阳光小区", "1号楼", "2单元")

        def person(unit: object, room: str, name: str, born: dt.date) -> Resident:
            return make_resident(unit, room, name, born=born)  # type: ignore[arg-type]

        def care(resident: Resident, *, ltc: int | None = None, tags: list[str] = ()) -> None:  # type: ignore[assignment]
            registry.care_profile_save(
                actor=root,
                resident=resident,
                care=registry.CareInput(tags=list(tags), ltc_level=ltc),
            )

        # 阳光社区, grid 1 (1号楼)
        cls.exactly80 = person(unit1, "201", "周满八", dt.date(1945, 6, 15))
        cls.ltc5 = person(unit1b, "101", "吴长护", dt.date(1960, 1, 1))
        care(cls.ltc5, ltc=5)
        cls.almost80 = person(unit1, "202", "郑差一天", dt.date(1945, 6, 16))
        # grid 2 (2号楼)
        cls.dead85 = person(unit2, "301", "冯已故", dt.date(1940, 1, 1))
        registry.resident_update(
            actor=root, resident=cls.dead85, values={"living_status": LivingStatus.DECEASED}
        )
        cls.ltc4 = person(unit2, "302", "陈四级", dt.date(1960, 1, 1))
        care(cls.ltc4, ltc=4)
        cls.dibao = person(unit2, "303", "褚低保", dt.date(1970, 1, 1))
        care(cls.dibao, tags=[CareTag.DIBAO])
        cls.old_and_ltc6 = person(unit2, "304", "卫双条", dt.date(1940, 1, 1))
        care(cls.old_and_ltc6, ltc=6)
        # no grid (3号楼): applications
        cls.approved = person(unit3, "401", "蒋申请", dt.date(1955, 1, 1))
        cls.pending = person(unit3, "402", "沈待审", dt.date(1955, 1, 1))
        cls.declined = person(unit3, "403", "韩驳回", dt.date(1955, 1, 1))
        for resident, status in (
            (cls.approved, ApplicationStatus.APPROVED),
            (cls.pending, None),
            (cls.declined, ApplicationStatus.DECLINED),
        ):
            application = actions.application_create(
                actor=cls.carol, resident=resident, applicant="本人", reason="行动不便"
            )
            if status is not None:
                actions.application_decide(
                    actor=cls.carol, application=application, status=status, reason="核实"
                )
        # 星河社区: a stricter policy (age ≥ 90)
        cls.b_old95 = person(cls.unit_b, "201", "杨九五", dt.date(1930, 1, 1))
        cls.b_old85 = person(cls.unit_b, "202", "朱八五", dt.date(1940, 1, 1))
        # 远方社区 (another street): old, but nobody here may see them
        cls.far_old = person(cls.unit_far, "201", "秦远方", dt.date(1930, 1, 1))

        actions.policy_save(
            actor=cls.carol,
            community=cls.community,
            data=actions.PolicyInput(
                min_age=80, min_ltc_level=5, care_tags=[CareTag.DIBAO], approved_applications=True
            ),
        )
        actions.policy_save(
            actor=cls.dave,
            community=cls.community_b,
            data=actions.PolicyInput(min_age=90, approved_applications=False),
        )
        actions.policy_save(
            actor=root, community=cls.community_far, data=actions.PolicyInput(min_age=80)
        )
        cls.canteen = actions.canteen_save(
            actor=cls.carol, community=cls.community, name="阳光长者食堂", capacity=50
        )
        cls.canteen_b = actions.canteen_save(
            actor=cls.dave, community=cls.community_b, name="星河助餐点", capacity=50
        )
        assert timezone.localdate() == TODAY
        assert MealApplication.objects.count() == 3

    def enrol(self, resident: Resident, **values: object) -> MealEnrolment:
        with scopes_disabled():
            data = actions.EnrolmentInput(
                canteen=values.pop("canteen", self.canteen),  # type: ignore[arg-type]
                starts_on=values.pop("starts_on", TODAY),  # type: ignore[arg-type]
                **values,  # type: ignore[arg-type]
            )
            return actions.enrolment_create(actor=self.carol, resident=resident, data=data)
