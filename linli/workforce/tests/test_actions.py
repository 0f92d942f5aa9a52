"""The workforce actions themselves: sign-up checks, review, eligibility, task transitions,
doors and their codes, and the messages households get."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.lib.identity import compose_id_number
from linli.notify.choices import MessageStatus
from linli.notify.models import Message
from linli.registry.models import Household, UserArea
from linli.test import BaseTestCase
from linli.workforce import actions
from linli.workforce.choices import Skill, StopStatus, TaskKind, TaskStatus, VolunteerStatus
from linli.workforce.models import MAX_CODE_ATTEMPTS, Task, TaskEvent, Volunteer

NOON = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
VOLUNTEER_PASSWORD = "volunteer pass 2026"

_numbers = iter(range(1000, 9999))


def signup_data(**overrides: object) -> actions.SignupInput:
    n = next(_numbers)
    values: dict[str, object] = {
        "name": "吴志强",
        "phone": f"1390000{n:04d}",
        "id_number": compose_id_number("110101", dt.date(1990, 5, 17), n % 1000),
        "password": VOLUNTEER_PASSWORD,
    }
    values.update(overrides)
    return actions.SignupInput(**values)  # type: ignore[arg-type]


class WorkforceTestCase(BaseTestCase):
    """BaseTestCase plus helpers to make verified volunteers and door tasks."""

    def make_volunteer(self, *, verified: bool = True, **overrides: object) -> Volunteer:
        with scopes_disabled():
            volunteer = actions.volunteer_signup(
                community=self.community, data=signup_data(**overrides)
            )
            if verified:
                actions.volunteer_review(
                    actor=self.carol, volunteer=volunteer, status=VolunteerStatus.VERIFIED
                )
            volunteer.refresh_from_db()
            return volunteer

    def door_task(self, *households: Household, **fields: object) -> Task:
        with scopes_disabled():
            homes = households or (Household.objects.get(pk=self.zhang.household_id),)
            return actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.DELIVERY_BUNDLE,
                title="送蔬菜包",
                stops=[actions.StopInput(household=h, items="蔬菜包×1") for h in homes],
                **fields,  # type: ignore[arg-type]
            )


class SignupTest(WorkforceTestCase):
    def test_it_creates_a_pending_volunteer_with_an_account_that_is_off(self) -> None:
        volunteer = self.make_volunteer(verified=False, skills=["driver"], is_party_member=True)
        self.assertEqual(volunteer.status, VolunteerStatus.PENDING)
        self.assertFalse(volunteer.user.is_active)
        self.assertTrue(volunteer.user.check_password(VOLUNTEER_PASSWORD))
        self.assertEqual(volunteer.skills, ["driver"])
        self.assertTrue(volunteer.user.username.startswith("vol-"))
        self.assertNotIn(volunteer.phone, volunteer.user.username)

    def test_it_keeps_numbers_encrypted_at_rest(self) -> None:
        volunteer = self.make_volunteer(phone="13900009876")
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT phone, id_number FROM workforce_volunteer WHERE id = %s", [volunteer.pk]
            )
            phone, id_number = cursor.fetchone()
        self.assertNotIn("13900009876", phone)
        self.assertNotIn(volunteer.id_number, id_number)
        self.assertEqual(volunteer.masked_phone, "139****9876")

    def test_it_refuses_bad_fields_with_reasons_and_saves_nothing(self) -> None:
        users_before = User.objects.count()
        cases: dict[str, dict[str, object]] = {
            "id_number": {"id_number": "110101199005171230"},
            "phone": {"phone": "1234"},
            "name": {"name": "  "},
            "password": {"password": "123"},
            "skills": {"skills": ["juggling"]},
            "availability": {"availability": ["9-am"]},
            "last_negative_test_at": {"last_negative_test_at": timezone.now() + dt.timedelta(1)},
        }
        for field, overrides in cases.items():
            with self.subTest(field), self.assertRaises(ValidationError) as caught:
                self.make_volunteer(verified=False, **overrides)
            self.assertIn(field, caught.exception.message_dict)
        with scopes_disabled():
            self.assertEqual(Volunteer.objects.count(), 0)
        self.assertEqual(User.objects.count(), users_before)

    def test_it_refuses_a_building_outside_the_chosen_compound(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.make_volunteer(verified=False, building=self.unit_b.building)
        self.assertIn("building", caught.exception.message_dict)

    def test_it_catches_the_same_phone_or_id_signing_up_twice(self) -> None:
        first = self.make_volunteer(verified=False)
        with self.assertRaises(ValidationError) as caught:
            self.make_volunteer(verified=False, phone=first.phone)
        self.assertEqual(caught.exception.message_dict["phone"], ["该手机号已报名过志愿者"])
        with self.assertRaises(ValidationError) as caught:
            self.make_volunteer(verified=False, id_number=first.id_number)
        self.assertEqual(caught.exception.message_dict["id_number"], ["该身份证号已报名过志愿者"])

    def test_it_lets_a_rejected_person_sign_up_again(self) -> None:
        first = self.make_volunteer(verified=False)
        with scopes_disabled():
            actions.volunteer_review(
                actor=self.carol,
                volunteer=first,
                status=VolunteerStatus.REJECTED,
                reason="信息不全",
            )
            again = actions.volunteer_signup(
                community=self.community,
                data=signup_data(phone=first.phone, id_number=first.id_number),
            )
        self.assertEqual(again.status, VolunteerStatus.PENDING)


class ReviewTest(WorkforceTestCase):
    def test_it_switches_the_account_on_and_gives_it_the_community(self) -> None:
        volunteer = self.make_volunteer()
        self.assertTrue(volunteer.user.is_active)
        self.assertEqual(volunteer.reviewed_by, self.carol)
        self.assertEqual(UserArea.objects.get(user=volunteer.user).community, self.community)

    def test_it_needs_a_reason_to_reject_or_suspend(self) -> None:
        volunteer = self.make_volunteer()
        for status in (VolunteerStatus.REJECTED, VolunteerStatus.SUSPENDED):
            with self.subTest(status), self.assertRaises(ValidationError) as caught:
                actions.volunteer_review(actor=self.carol, volunteer=volunteer, status=status)
            self.assertIn("reason", caught.exception.message_dict)
        volunteer.refresh_from_db()
        self.assertEqual(volunteer.status, VolunteerStatus.VERIFIED)

    def test_it_switches_a_suspended_volunteer_off(self) -> None:
        volunteer = self.make_volunteer()
        with scopes_disabled():
            actions.volunteer_review(
                actor=self.carol, volunteer=volunteer, status="suspended", reason="多次爽约"
            )
        volunteer.user.refresh_from_db()
        self.assertFalse(volunteer.user.is_active)


class EligibilityTest(WorkforceTestCase):
    def test_it_refuses_to_assign_an_unverified_volunteer(self) -> None:
        volunteer = self.make_volunteer(verified=False)
        task = self.door_task()
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.task_assign(actor=self.carol, task=task, volunteer=volunteer)
        self.assertIn("待审核", caught.exception.message_dict["volunteer"][0])
        task.refresh_from_db()
        self.assertEqual((task.status, task.volunteer), (TaskStatus.OPEN, None))

    def test_it_refuses_a_stale_test_only_when_the_community_asks(self) -> None:
        with time_machine.travel(NOON, tick=False):
            volunteer = self.make_volunteer(last_negative_test_at=NOON - dt.timedelta(hours=50))
            task = self.door_task()
            self.assertEqual(volunteer.ineligibility(), [])
            self.community.volunteer_test_required = True
            with scopes_disabled():
                self.community.save()
            volunteer.refresh_from_db()
            with scopes_disabled(), self.assertRaises(ValidationError) as caught:
                actions.task_assign(actor=self.carol, task=task, volunteer=volunteer)
            self.assertEqual(
                caught.exception.message_dict["volunteer"],
                ["核酸阴性已超过48小时（最近一次：2026-11-18 10:00）"],
            )
            self.community.volunteer_test_hours = 72
            with scopes_disabled():
                self.community.save()
            volunteer.refresh_from_db()
            with scopes_disabled():
                actions.task_assign(actor=self.carol, task=task, volunteer=volunteer)
        task.refresh_from_db()
        self.assertEqual(task.volunteer, volunteer)

    def test_it_says_when_no_test_is_on_file(self) -> None:
        self.community.volunteer_test_required = True
        with scopes_disabled():
            self.community.save()
        volunteer = self.make_volunteer()
        self.assertEqual(
            volunteer.ineligibility(), ["未登记核酸阴性时间，本社区要求持有效阴性证明"]
        )

    def test_it_refuses_a_volunteer_missing_a_required_skill(self) -> None:
        volunteer = self.make_volunteer(skills=[Skill.HEAVY_LIFTING])
        task = self.door_task(required_skills=[Skill.DRIVER, Skill.HEAVY_LIFTING])
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.task_take(volunteer=volunteer, task=task)
        self.assertEqual(caught.exception.message_dict["volunteer"], ["缺少技能：驾驶"])
        task.refresh_from_db()
        self.assertEqual(task.status, TaskStatus.OPEN)


class TransitionTest(WorkforceTestCase):
    def test_it_takes_an_open_task_straight_to_accepted_and_records_who(self) -> None:
        volunteer = self.make_volunteer()
        task = self.door_task()
        with scopes_disabled():
            actions.task_take(volunteer=volunteer, task=task)
            events = list(
                TaskEvent.objects.filter(task=task).values_list("from_status", "to_status", "actor")
            )
        task.refresh_from_db()
        self.assertEqual((task.status, task.volunteer), (TaskStatus.ACCEPTED, volunteer))
        self.assertEqual(
            events, [("", "open", self.carol.pk), ("open", "accepted", volunteer.user.pk)]
        )

    def test_it_refuses_a_second_taker(self) -> None:
        first, second = self.make_volunteer(), self.make_volunteer()
        task = self.door_task()
        with scopes_disabled():
            actions.task_take(volunteer=first, task=task)
            stale = Task.objects.get(pk=task.pk)
            stale.status = TaskStatus.OPEN  # what the second taker's page still showed
            with self.assertRaises(ValidationError) as caught:
                actions.task_take(volunteer=second, task=stale)
        self.assertEqual(caught.exception.message_dict["status"], ["这个任务已被其他志愿者领取"])
        task.refresh_from_db()
        self.assertEqual(task.volunteer, first)

    def test_it_runs_assign_accept_release_and_reassign(self) -> None:
        first, second = self.make_volunteer(), self.make_volunteer()
        task = self.door_task()
        with scopes_disabled():
            actions.task_assign(actor=self.carol, task=task, volunteer=first)
            actions.task_accept(actor=first.user, task=task)
            actions.task_release(actor=first.user, task=task, reason="临时有事")
            self.assertEqual((task.status, task.volunteer), (TaskStatus.OPEN, None))
            actions.task_assign(actor=self.carol, task=task, volunteer=second)
        task.refresh_from_db()
        self.assertEqual((task.status, task.volunteer), (TaskStatus.ASSIGNED, second))

    def test_it_refuses_transitions_the_table_does_not_allow(self) -> None:
        task = self.door_task()
        with scopes_disabled():
            with self.assertRaises(ValidationError) as caught:
                actions.task_start(actor=self.carol, task=task)
            self.assertIn("待领取", caught.exception.message_dict["status"][0])
            with self.assertRaises(ValidationError):
                actions.task_reopen(actor=self.carol, task=task)
            with self.assertRaises(ValidationError):
                actions.task_accept(actor=self.carol, task=task)
            with self.assertRaises(ValidationError):
                actions.task_cancel(actor=self.carol, task=task, reason=" ")
        task.refresh_from_db()
        self.assertEqual(task.status, TaskStatus.OPEN)

    def test_it_refuses_finishing_with_doors_left(self) -> None:
        volunteer = self.make_volunteer()
        task = self.door_task()
        with scopes_disabled():
            actions.task_take(volunteer=volunteer, task=task)
            actions.task_start(actor=volunteer.user, task=task)
            with self.assertRaises(ValidationError) as caught:
                actions.task_finish(actor=volunteer.user, task=task)
        self.assertEqual(caught.exception.message_dict["stops"], ["还有未处理的送达点"])

    def test_it_credits_the_planned_window_or_the_time_taken(self) -> None:
        volunteer = self.make_volunteer()
        with time_machine.travel(NOON, tick=False) as traveller, scopes_disabled():
            errand = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.ERRAND,
                title="代购药品",
            )
            actions.task_take(volunteer=volunteer, task=errand)
            actions.task_start(actor=volunteer.user, task=errand)
            traveller.shift(dt.timedelta(minutes=40))
            actions.task_finish(actor=volunteer.user, task=errand, note="已送到")
            duty = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.DUTY_SHIFT,
                title="东门值守",
                starts_at=NOON,
                ends_at=NOON + dt.timedelta(hours=4),
            )
            actions.task_assign(actor=self.carol, task=duty, volunteer=volunteer)
            actions.task_accept(actor=volunteer.user, task=duty)
            actions.task_start(actor=volunteer.user, task=duty)
            actions.task_finish(actor=volunteer.user, task=duty)
        errand.refresh_from_db()
        duty.refresh_from_db()
        self.assertEqual((errand.minutes, duty.minutes), (45, 240))
        with scopes_disabled():
            actions.task_set_minutes(actor=self.carol, task=duty, minutes=200)
            with self.assertRaises(ValidationError):
                actions.task_set_minutes(actor=self.carol, task=duty, minutes=-1)
        duty.refresh_from_db()
        self.assertEqual(duty.minutes, 200)


class DoorTest(WorkforceTestCase):
    def started(self, task: Task) -> Volunteer:
        volunteer = self.make_volunteer()
        with scopes_disabled():
            actions.task_take(volunteer=volunteer, task=task)
            actions.task_start(actor=volunteer.user, task=task)
        return volunteer

    def test_it_tells_each_household_its_code_when_the_volunteer_sets_off(self) -> None:
        task = self.door_task()
        self.started(task)
        with scopes_disabled():
            stop = task.stops.get()
            message = Message.objects.get(kind="task.on_the_way")
        self.assertEqual(message.to_phone, "13812348000")
        self.assertIn(stop.door_code, message.body)
        self.assertEqual(message.community_id, self.community.pk)

    def test_it_delivers_with_the_right_code_and_finishes_the_task(self) -> None:
        task = self.door_task()
        volunteer = self.started(task)
        with scopes_disabled():
            stop = task.stops.get()
            actions.stop_deliver(actor=volunteer.user, stop=stop, code=stop.door_code)
        stop.refresh_from_db()
        task.refresh_from_db()
        self.assertEqual((stop.status, stop.proof), (StopStatus.DELIVERED, "code"))
        self.assertEqual(task.status, TaskStatus.DONE)

    def test_it_counts_wrong_codes_and_stops_accepting_them(self) -> None:
        task = self.door_task()
        volunteer = self.started(task)
        with scopes_disabled():
            stop = task.stops.get()
            wrong = "0000" if stop.door_code != "0000" else "1111"
            for _attempt in range(MAX_CODE_ATTEMPTS):
                with self.assertRaises(ValidationError) as caught:
                    actions.stop_deliver(actor=volunteer.user, stop=stop, code=wrong)
                self.assertEqual(caught.exception.message_dict["code"], ["收货码不正确"])
            with self.assertRaises(ValidationError) as caught:
                actions.stop_deliver(actor=volunteer.user, stop=stop, code=stop.door_code)
        self.assertIn("已输错5次", caught.exception.message_dict["code"][0])
        stop.refresh_from_db()
        self.assertEqual((stop.status, stop.code_attempts), (StopStatus.PENDING, MAX_CODE_ATTEMPTS))

    def test_it_tells_the_household_when_left_at_the_door(self) -> None:
        with scopes_disabled():
            zhang_home = Household.objects.get(pk=self.zhang.household_id)
            li_home = Household.objects.get(pk=self.li.household_id)
        task = self.door_task(zhang_home, li_home)
        volunteer = self.started(task)
        with scopes_disabled():
            first, second = task.stops.order_by("position")
            actions.stop_left_at_door(actor=volunteer.user, stop=first)
            self.assertEqual(
                [m.to_phone for m in Message.objects.filter(kind="task.left_at_door")],
                ["13812348000"],
            )
            actions.stop_fail(actor=volunteer.user, stop=second, reason="家中无人，电话未接")
        task.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual(task.status, TaskStatus.DONE)
        self.assertEqual(second.failure_reason, "家中无人，电话未接")

    def test_it_fails_the_task_when_no_door_was_reached_so_it_can_be_retried(self) -> None:
        task = self.door_task()
        volunteer = self.started(task)
        with scopes_disabled():
            actions.stop_fail(
                actor=volunteer.user, stop=task.stops.get(), reason="楼栋封控无法进入"
            )
            task.refresh_from_db()
            self.assertEqual((task.status, task.minutes), (TaskStatus.FAILED, 0))
            actions.task_reopen(actor=self.carol, task=task)
            stop = task.stops.get()
        self.assertEqual(stop.status, StopStatus.PENDING)

    def test_it_refuses_door_work_before_setting_off(self) -> None:
        volunteer = self.make_volunteer()
        task = self.door_task()
        with scopes_disabled():
            actions.task_take(volunteer=volunteer, task=task)
            stop = task.stops.get()
            with self.assertRaises(ValidationError) as caught:
                actions.stop_left_at_door(actor=volunteer.user, stop=stop)
        self.assertIn("出发", caught.exception.message_dict["status"][0])

    def test_it_puts_failed_doors_back_when_a_failed_task_is_reopened(self) -> None:
        task = self.door_task()
        volunteer = self.started(task)
        with scopes_disabled():
            actions.task_fail(actor=volunteer.user, task=task, reason="电梯停运")
            stop = task.stops.get()
            stop.status = StopStatus.FAILED
            stop.failure_reason = "电梯停运"
            stop.save()
            actions.task_reopen(actor=self.carol, task=task)
        task.refresh_from_db()
        stop.refresh_from_db()
        self.assertEqual((task.status, task.volunteer), (TaskStatus.OPEN, None))
        self.assertEqual(stop.status, StopStatus.PENDING)

    @override_settings(LINLI_NOTIFY_BACKEND="linli.notify.backends.FailingBackend")
    def test_it_keeps_the_delivery_when_the_message_cannot_be_sent(self) -> None:
        task = self.door_task()
        volunteer = self.started(task)
        with scopes_disabled():
            stop = task.stops.get()
            actions.stop_left_at_door(actor=volunteer.user, stop=stop)
            message = Message.objects.get(kind="task.left_at_door")
        stop.refresh_from_db()
        self.assertEqual(stop.status, StopStatus.LEFT_AT_DOOR)
        self.assertEqual(message.status, MessageStatus.FAILED)
        self.assertEqual(message.error, "gateway unavailable")


class TeamTest(WorkforceTestCase):
    def test_it_takes_members_from_the_community_only(self) -> None:
        volunteer = self.make_volunteer()
        with scopes_disabled():
            team = actions.team_save(
                actor=self.carol,
                community=self.community,
                name="第一临时党支部",
                kind="party_branch",
                leader=self.alice,
                members=[volunteer.user, self.kate],
            )
            self.assertEqual(set(team.members.all()), {volunteer.user, self.kate, self.alice})
            with self.assertRaises(ValidationError) as caught:
                actions.team_save(
                    actor=self.carol,
                    community=self.community,
                    name="第二支部",
                    kind="party_branch",
                    members=[self.dave],
                )
        self.assertEqual(
            caught.exception.message_dict["members"], ["dave 不是本社区的志愿者或工作人员"]
        )


class TaskCreateTest(WorkforceTestCase):
    def test_it_refuses_a_door_task_without_doors_and_a_household_elsewhere(self) -> None:
        with scopes_disabled():
            far_home = Household.objects.get(pk=self.zhao.household_id)
            for stops, field in (([], "stops"), ([actions.StopInput(far_home)], "stops")):
                with self.subTest(field), self.assertRaises(ValidationError) as caught:
                    actions.task_create(
                        actor=self.carol,
                        community=self.community,
                        kind=TaskKind.DELIVERY_BUNDLE,
                        title="送货",
                        stops=stops,
                    )
                self.assertIn(field, caught.exception.message_dict)
            self.assertFalse(Task.objects.exists())

    def test_it_copies_the_address_so_the_volunteer_never_reads_the_household(self) -> None:
        task = self.door_task()
        with scopes_disabled():
            stop = task.stops.get()
        self.assertEqual(stop.address, "阳光小区1号楼1单元101")
        self.assertEqual(task.place, "阳光小区1号楼")
        self.assertEqual(task.size, 1)
        self.assertRegex(stop.door_code, r"^\d{4}$")


class ResidentsLanguageTest(WorkforceTestCase):
    def test_it_writes_to_households_in_chinese_whatever_the_volunteer_reads(self) -> None:
        from django.utils import translation

        volunteer = self.make_volunteer()
        task = self.door_task()
        with translation.override("en"), scopes_disabled():
            actions.task_take(volunteer=volunteer, task=task)
            actions.task_start(actor=volunteer.user, task=task)
            body = Message.objects.get(kind="task.on_the_way").body
        self.assertTrue(body.startswith("【邻里】志愿者正在为您送达"), body)
