"""The volunteers, teams and tasks commands: same actions and access as the pages."""

from __future__ import annotations

import datetime as dt
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.lib.identity import compose_id_number
from linli.notify.models import Message
from linli.registry.models import Household
from linli.test import PASSWORD, BaseTestCase
from linli.workforce import actions
from linli.workforce.choices import Skill, StopStatus, TaskKind, TaskStatus, VolunteerStatus
from linli.workforce.models import Task, Team, Volunteer


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


class CommandLineTestCase(BaseTestCase):
    volunteer: Volunteer
    pending: Volunteer

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.volunteer = cls.make_volunteer("林小峰", "13700001111", 1, verify=True)
            cls.pending = cls.make_volunteer("周敏", "13700002222", 2, verify=False)

    @classmethod
    def make_volunteer(cls, name: str, phone: str, n: int, *, verify: bool) -> Volunteer:
        volunteer = actions.volunteer_signup(
            community=cls.community,
            data=actions.SignupInput(
                name=name,
                phone=phone,
                id_number=compose_id_number("440103", dt.date(1990, 1, n), 11),
                password=PASSWORD,
                skills=[Skill.HEAVY_LIFTING],
            ),
        )
        if verify:
            actions.volunteer_review(
                actor=cls.carol, volunteer=volunteer, status=VolunteerStatus.VERIFIED
            )
        return volunteer

    def make_delivery(self) -> Task:
        with scopes_disabled():
            households = list(Household.objects.filter(unit=self.unit1).order_by("room"))
            return actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.DELIVERY_BUNDLE,
                title="1号楼送菜",
                stops=[actions.StopInput(household=h, items="蔬菜包") for h in households],
            )


class VolunteerCommandTests(CommandLineTestCase):
    def test_it_lists_volunteers_with_masked_numbers_only(self) -> None:
        text = run("volunteers", "list", "--actor", "carol")
        self.assertIn("林小峰", text)
        self.assertIn("137****1111", text)
        self.assertNotIn("13700001111", text)
        self.assertNotIn(self.volunteer.id_number, text)
        pending = run("volunteers", "list", "--status", "pending")
        self.assertIn("周敏", pending)
        self.assertNotIn("林小峰", pending)

    def test_it_shows_one_volunteer_masked(self) -> None:
        text = run("volunteers", "show", str(self.volunteer.pk), "--actor", "carol")
        self.assertIn(self.volunteer.masked_id_number, text)
        self.assertNotIn(self.volunteer.id_number, text)

    def test_it_verifies_and_switches_the_account_on(self) -> None:
        text = run("volunteers", "verify", str(self.pending.pk), "--actor", "carol")
        self.assertIn("已审核通过", text)
        with scopes_disabled():
            self.pending.refresh_from_db()
        self.assertEqual(self.pending.status, VolunteerStatus.VERIFIED)
        self.assertEqual(self.pending.reviewed_by, self.carol)
        self.assertTrue(User.objects.get(pk=self.pending.user_id).is_active)

    def test_it_rejects_with_a_reason_and_suspends(self) -> None:
        run(
            "volunteers", "reject", str(self.pending.pk), "--reason", "信息不符", "--actor", "carol"
        )
        run("volunteers", "suspend", str(self.volunteer.pk), "--reason", "请假", "--actor", "carol")
        with scopes_disabled():
            self.pending.refresh_from_db()
            self.volunteer.refresh_from_db()
        self.assertEqual(self.pending.status, VolunteerStatus.REJECTED)
        self.assertEqual(self.pending.status_reason, "信息不符")
        self.assertEqual(self.volunteer.status, VolunteerStatus.SUSPENDED)
        self.assertFalse(User.objects.get(pk=self.volunteer.user_id).is_active)

    def test_it_refuses_a_review_without_actor_or_by_a_grid_worker(self) -> None:
        with self.assertRaises(CommandError):
            run("volunteers", "verify", str(self.pending.pk))
        with self.assertRaisesMessage(CommandError, "无权审核"):
            run("volunteers", "verify", str(self.pending.pk), "--actor", "alice")
        with scopes_disabled():
            self.pending.refresh_from_db()
        self.assertEqual(self.pending.status, VolunteerStatus.PENDING)

    def test_it_says_an_unknown_id_is_not_found(self) -> None:
        with self.assertRaisesMessage(CommandError, "未找到"):
            run("volunteers", "verify", "99999", "--actor", "carol")
        with self.assertRaisesMessage(CommandError, "未找到"):
            run("volunteers", "show", "abc", "--actor", "carol")

    def test_it_writes_the_sign_up_poster(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "poster.pdf"
            text = run(
                "volunteers",
                "poster",
                "yangguang",
                str(out),
                "--url-base",
                "https://linli.example.org",
                "--actor",
                "carol",
            )
            self.assertTrue(out.read_bytes().startswith(b"%PDF"))
        self.assertIn("https://linli.example.org/", text)
        with self.assertRaisesMessage(CommandError, "无权"):
            run(
                "volunteers",
                "poster",
                "yangguang",
                "x.pdf",
                "--url-base",
                "http://h",
                "--actor=kate",
            )


class TaskCommandTests(CommandLineTestCase):
    def test_it_creates_a_delivery_with_doors(self) -> None:
        with scopes_disabled():
            households = list(
                Household.objects.filter(unit=self.unit1).values_list("pk", flat=True)
            )
        text = run(
            "tasks",
            "create",
            "--kind",
            "delivery_bundle",
            "--title",
            "送米面油",
            "--household",
            *[str(pk) for pk in households],
            "--items",
            "米面油套餐",
            "--actor",
            "carol",
        )
        self.assertIn("已新建任务", text)
        with scopes_disabled():
            task = Task.objects.get(title="送米面油")
            self.assertEqual(task.community, self.community)
            self.assertEqual(task.stops.count(), len(households))
            self.assertEqual(set(task.stops.values_list("items", flat=True)), {"米面油套餐"})
            self.assertEqual(task.created_by, self.carol)

    def test_it_refuses_a_task_from_a_volunteer_and_a_bad_time(self) -> None:
        with self.assertRaisesMessage(CommandError, "无权"):
            run("tasks", "create", "--kind", "errand", "--title", "买药", "--actor", "victor")
        with self.assertRaisesMessage(CommandError, "--starts-at"):
            run(
                "tasks",
                "create",
                "--kind",
                "errand",
                "--title",
                "买药",
                "--starts-at",
                "明天",
                "--actor",
                "carol",
            )
        with scopes_disabled():
            self.assertFalse(Task.objects.filter(title="买药").exists())

    def test_it_refuses_to_assign_an_ineligible_volunteer_and_says_why(self) -> None:
        task = self.make_delivery()
        with self.assertRaisesMessage(CommandError, "待审核"):
            run("tasks", "assign", str(task.pk), str(self.pending.pk), "--actor", "carol")
        errand = run(
            "tasks",
            "create",
            "--kind",
            "errand",
            "--title",
            "开车取药",
            "--skill",
            "driver",
            "--actor",
            "carol",
        )
        self.assertIn("已新建任务", errand)
        with scopes_disabled():
            errand_task = Task.objects.get(title="开车取药")
        with self.assertRaisesMessage(CommandError, "缺少技能：驾驶"):
            run("tasks", "assign", str(errand_task.pk), str(self.volunteer.pk), "--actor", "carol")
        with scopes_disabled():
            task.refresh_from_db()
            errand_task.refresh_from_db()
        self.assertEqual(task.status, TaskStatus.OPEN)
        self.assertIsNone(errand_task.volunteer)

    def test_it_runs_a_delivery_from_assignment_to_the_last_door(self) -> None:
        task = self.make_delivery()
        run("tasks", "assign", str(task.pk), str(self.volunteer.pk), "--actor", "carol")
        username = self.volunteer.user.username
        with self.assertRaisesMessage(CommandError, "未找到"):
            run("tasks", "accept", str(task.pk), "--actor", "sam")
        run("tasks", "accept", str(task.pk), "--actor", username)
        run("tasks", "start", str(task.pk), "--actor", username)
        with scopes_disabled():
            task.refresh_from_db()
            self.assertEqual(task.status, TaskStatus.IN_PROGRESS)
            first, second = list(task.stops.all())
        # The volunteer sees the doors but never the codes the households hold.
        shown = run("tasks", "show", str(task.pk), "--actor", username)
        self.assertIn(first.address, shown)
        self.assertNotIn("收货码", shown)
        with self.assertRaisesMessage(CommandError, "收货码不正确"):
            wrong = "0000" if first.door_code != "0000" else "1111"
            run("tasks", "deliver", str(first.pk), wrong, "--actor", username)
        run("tasks", "deliver", str(first.pk), first.door_code, "--actor", username)
        run("tasks", "left-at-door", str(second.pk), "--actor", username)
        with scopes_disabled():
            task.refresh_from_db()
            first.refresh_from_db()
            second.refresh_from_db()
            self.assertEqual(first.status, StopStatus.DELIVERED)
            self.assertEqual(first.code_attempts, 1)
            self.assertEqual(second.status, StopStatus.LEFT_AT_DOOR)
            self.assertTrue(Message.objects.filter(kind="task.left_at_door").exists())
        self.assertEqual(task.status, TaskStatus.DONE)
        self.assertGreater(task.minutes, 0)
        hours = run("tasks", "hours", "--actor", "carol")
        self.assertIn("林小峰", hours)
        self.assertIn("送货到户", hours)

    def test_it_lets_a_volunteer_take_an_open_task_and_give_it_back(self) -> None:
        task = self.make_delivery()
        username = self.volunteer.user.username
        board = run("tasks", "list", "--status", "open", "--actor", username)
        self.assertIn("1号楼送菜", board)
        run("tasks", "take", str(task.pk), "--actor", username)
        with scopes_disabled():
            task.refresh_from_db()
        self.assertEqual(task.status, TaskStatus.ACCEPTED)
        self.assertEqual(task.volunteer, self.volunteer)
        with self.assertRaisesMessage(CommandError, "只有志愿者"):
            run("tasks", "take", str(task.pk), "--actor", "carol")
        run("tasks", "release", str(task.pk), "--reason", "临时有事", "--actor", username)
        with scopes_disabled():
            task.refresh_from_db()
            self.assertEqual(task.status, TaskStatus.OPEN)
            self.assertEqual(task.events.last().note, "临时有事")  # type: ignore[union-attr]

    def test_it_fails_reopens_and_cancels_with_reasons(self) -> None:
        task = self.make_delivery()
        username = self.volunteer.user.username
        run("tasks", "take", str(task.pk), "--actor", username)
        run("tasks", "start", str(task.pk), "--actor", username)
        with self.assertRaises(CommandError):
            run("tasks", "fail", str(task.pk), "--actor", username)  # --reason is required
        run("tasks", "fail", str(task.pk), "--reason", "电梯停运", "--actor", username)
        with self.assertRaisesMessage(CommandError, "不能代为操作"):
            run("tasks", "reopen", str(task.pk), "--actor", username)
        run("tasks", "reopen", str(task.pk), "--actor", "carol")
        run("tasks", "cancel", str(task.pk), "--reason", "物资未到", "--actor", "carol")
        with scopes_disabled():
            task.refresh_from_db()
        self.assertEqual(task.status, TaskStatus.CANCELLED)
        self.assertEqual(task.failure_reason, "电梯停运")

    def test_it_hides_tasks_outside_the_actors_area(self) -> None:
        task = self.make_delivery()
        with self.assertRaisesMessage(CommandError, "未找到"):
            run("tasks", "show", str(task.pk), "--actor", "oscar")
        with self.assertRaisesMessage(CommandError, "未找到"):
            run("tasks", "cancel", "99999", "--reason", "x", "--actor", "carol")

    def test_it_reads_a_naive_time_as_shanghai_time(self) -> None:
        run(
            "tasks",
            "create",
            "--kind",
            "building_sweep",
            "--title",
            "扫楼",
            "--building",
            str(self.unit1.building_id),
            "--starts-at",
            "2030-05-01T08:00",
            "--ends-at",
            "2030-05-01 10:00",
            "--actor",
            "carol",
        )
        with scopes_disabled():
            task = Task.objects.get(title="扫楼")
            self.assertEqual(list(task.buildings.all()), [self.unit1.building])
        assert task.starts_at is not None
        self.assertEqual(timezone.localtime(task.starts_at).hour, 8)
        self.assertEqual(task.starts_at.astimezone(dt.UTC).hour, 0)


class TeamCommandTests(CommandLineTestCase):
    def test_it_creates_a_team_and_adds_members(self) -> None:
        run(
            "teams",
            "create",
            "--name",
            "第一临时党支部",
            "--kind",
            "party_branch",
            "--leader-volunteer",
            str(self.volunteer.pk),
            "--actor",
            "carol",
        )
        with scopes_disabled():
            team = Team.objects.get(name="第一临时党支部")
            self.assertEqual(team.leader, self.volunteer.user)
        run("teams", "add-member", str(team.pk), "--user", "alice", "--actor", "carol")
        with scopes_disabled():
            self.assertEqual(
                set(team.members.values_list("username", flat=True)),
                {self.volunteer.user.username, "alice"},
            )
        listing = run("teams", "list", "--actor", "carol")
        self.assertIn("第一临时党支部", listing)
        with self.assertRaisesMessage(CommandError, "无权"):
            run("teams", "create", "--name", "x", "--kind", "service_team", "--actor", "alice")
