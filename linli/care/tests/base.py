"""The world of the care tests: BaseTestCase plus 张建国 (grid 1, 独居老人, a daughter as
emergency contact) and 李秀英 (grid 2, 低保) on the register, each with a daily-call plan
starting on a fixed Friday. Times are frozen with time-machine at DAY's hours."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.care import actions
from linli.care.models import CarePlan, CheckIn
from linli.registry import actions as registry_actions
from linli.registry.choices import CareTag
from linli.test import BaseTestCase

DAY = dt.date(2026, 11, 20)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    """A Shanghai wall-clock time on DAY, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class CareTestCase(BaseTestCase):
    zhang_plan: CarePlan
    li_plan: CarePlan

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # The day before DAY: the plans start tomorrow, so none has a check-in yet.
        with scopes_disabled(), time_machine.travel(at(20, 0, DAY - dt.timedelta(days=1))):
            registry_actions.care_profile_save(
                actor=cls.root,
                resident=cls.zhang,
                care=registry_actions.CareInput(
                    tags=[CareTag.LIVES_ALONE],
                    contacts=[registry_actions.ContactInput("张丽", "女儿", "13911112222")],
                ),
            )
            registry_actions.care_profile_save(
                actor=cls.root,
                resident=cls.li,
                care=registry_actions.CareInput(tags=[CareTag.DIBAO]),
            )
            cls.zhang_plan = actions.plan_save(
                actor=cls.carol,
                resident=cls.zhang,
                data=actions.PlanInput(starts_on=DAY),
            )
            cls.li_plan = actions.plan_save(
                actor=cls.carol, resident=cls.li, data=actions.PlanInput(starts_on=DAY)
            )

    def check_in_of(self, plan: CarePlan, day: dt.date = DAY) -> CheckIn:
        with scopes_disabled():
            return CheckIn.objects.get(plan=plan, due=day)
