"""Issue 3's demo data: volunteers, teams, tasks and checkpoints added by `linli seed`."""

from __future__ import annotations

from collections import Counter
from io import StringIO

from django.core.management import call_command
from django.test import RequestFactory, override_settings
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.checkpoints.choices import GoodsStatus
from linli.checkpoints.models import Checkpoint, CheckpointGate, CourierEntry, GoodsReceipt, Shift
from linli.checkpoints.seed import split
from linli.notify.models import Message
from linli.registry import seed
from linli.registry.models import Gate, UserArea
from linli.test import BaseTestCase
from linli.workforce import figures
from linli.workforce.choices import TaskKind, TaskStatus, TeamKind, VolunteerStatus
from linli.workforce.models import Task, TaskStop, Team, Volunteer

PASSWORD = "seed-test-password"


def counts() -> tuple[int, ...]:
    with scopes_disabled():
        return (
            User.objects.count(),
            Volunteer.objects.count(),
            Team.objects.count(),
            Task.objects.count(),
            TaskStop.objects.count(),
            Checkpoint.objects.count(),
            Shift.objects.count(),
            CourierEntry.objects.count(),
            GoodsReceipt.objects.count(),
            Message.objects.count(),
        )


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class WorkforceSeedTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed.seed(tier="community", password=PASSWORD, households=60)
        seed.seed_installed_apps(tier="community", password=PASSWORD, stdout=None)

    def test_it_signs_up_volunteers_of_every_status(self) -> None:
        with scopes_disabled():
            volunteers = Volunteer.objects.filter(community__code="wutong")
            statuses = Counter(volunteers.values_list("status", flat=True))
            self.assertEqual(volunteers.count(), 21)  # 20 and the demo account
            self.assertGreaterEqual(statuses[VolunteerStatus.VERIFIED], 15)
            self.assertGreaterEqual(statuses[VolunteerStatus.PENDING], 2)
            self.assertEqual(statuses[VolunteerStatus.REJECTED], 1)
            self.assertTrue(volunteers.filter(is_party_member=True).exclude(work_unit="").exists())
            self.assertTrue(all(v.skills is not None for v in volunteers))
            for volunteer in volunteers.select_related("user"):
                self.assertEqual(
                    volunteer.user.is_active, volunteer.status == VolunteerStatus.VERIFIED
                )
                self.assertTrue(volunteer.masked_phone)
            # Pending sign-ups have no area yet; reviewed ones have their community.
            pending_users = volunteers.filter(status=VolunteerStatus.PENDING).values("user")
            self.assertFalse(UserArea.objects.filter(user__in=pending_users).exists())

    def test_it_makes_the_demo_volunteer_a_verified_volunteer_who_can_log_in(self) -> None:
        with scopes_disabled():
            volunteer = Volunteer.objects.select_related("user", "community").get(
                user__username="volunteer_1"
            )
            area = UserArea.objects.select_related("community").get(user=volunteer.user)
            self.assertEqual(area.community, volunteer.community)
            self.assertTrue(Task.objects.filter(volunteer=volunteer).exists())
        self.assertEqual(volunteer.status, VolunteerStatus.VERIFIED)
        self.assertEqual(volunteer.ineligibility(), [])
        self.assertEqual(volunteer.name, volunteer.user.display_name)
        request = RequestFactory().post("/login/")
        self.assertTrue(
            self.client.login(request=request, username="volunteer_1", password=PASSWORD)
        )
        self.client.logout()
        # An ordinary seeded volunteer's account works too.
        self.assertTrue(
            self.client.login(request=request, username="vol-wutong-001", password=PASSWORD)
        )

    def test_it_forms_a_party_branch_and_a_service_team(self) -> None:
        with scopes_disabled():
            teams = Team.objects.filter(community__code="wutong")
            self.assertEqual(
                set(teams.values_list("kind", flat=True)),
                {TeamKind.PARTY_BRANCH, TeamKind.SERVICE_TEAM},
            )
            branch = teams.get(kind=TeamKind.PARTY_BRANCH)
            self.assertGreater(branch.members.count(), 0)
            self.assertFalse(
                branch.members.filter(volunteer__is_party_member=False).exists(),
                "a party branch of party members",
            )

    def test_it_fills_the_board_and_the_figures(self) -> None:
        with scopes_disabled():
            tasks = Task.objects.filter(community__code="wutong")
            statuses = Counter(tasks.values_list("status", flat=True))
            for status in (
                TaskStatus.OPEN,
                TaskStatus.ASSIGNED,
                TaskStatus.ACCEPTED,
                TaskStatus.IN_PROGRESS,
                TaskStatus.DONE,
            ):
                self.assertGreater(statuses[status], 0, status)
            open_deliveries = tasks.filter(status=TaskStatus.OPEN, kind=TaskKind.DELIVERY_BUNDLE)
            self.assertTrue(TaskStop.objects.filter(task__in=open_deliveries).exists())
            done = tasks.filter(status=TaskStatus.DONE)
            self.assertFalse(done.filter(minutes=0).exists())
            self.assertFalse(done.filter(volunteer__isnull=True).exists())
            days = {row.day for row in figures.done_by_day_and_kind(tasks)}
            self.assertGreaterEqual(len(days), 7)
            self.assertTrue(figures.hours_by_volunteer(tasks))
            self.assertTrue(
                any(row.minutes for row in figures.hours_by_team(Team.objects.all(), tasks))
            )
            # Starting a delivery told its households their codes, through the message log.
            self.assertTrue(Message.objects.filter(kind="task.on_the_way").exists())

    def test_it_merges_every_gate_into_one_checkpoint(self) -> None:
        with scopes_disabled():
            gates = Gate.objects.filter(compound__community__code="wutong")
            checkpoints = Checkpoint.objects.filter(community__code="wutong")
            self.assertEqual(CheckpointGate.objects.filter(gate__in=gates).count(), gates.count())
            self.assertEqual(checkpoints.count(), 3)  # 东门+南门, 北门, 正门+西门
            self.assertTrue(all(c.buildings.exists() for c in checkpoints))
            kept = Checkpoint.objects.filter(keepers__username="checkpoint_keeper_1")
            self.assertEqual(kept.count(), 1)
            shifts = Shift.objects.filter(checkpoint__in=checkpoints)
            self.assertEqual(shifts.count(), 3 * 4)  # two shifts a day, today and tomorrow
            kept_shifts = shifts.filter(checkpoint__in=kept).prefetch_related("tasks")
            self.assertGreater(sum(s.gaps for s in kept_shifts), 0)
            self.assertLess(sum(s.gaps for s in shifts.prefetch_related("tasks")), 3 * 4 * 2)
            self.assertEqual(CourierEntry.objects.filter(checkpoint__in=checkpoints).count(), 9)
            # The checkpoint's own batches; a supply round's goods come with their shipment
            # (issue 4's seed adds the settled round's, released two days ago).
            own = GoodsReceipt.objects.filter(checkpoint__in=kept, shipment__isnull=True)
            goods = Counter(own.values_list("status", flat=True))
            self.assertEqual(
                goods,
                {GoodsStatus.RELEASED: 1, GoodsStatus.DISINFECTED: 1, GoodsStatus.RECEIVED: 1},
            )

    def test_it_changes_nothing_when_run_again(self) -> None:
        before = counts()
        out = StringIO()
        call_command("seed", tier="community", password="other", stdout=out)
        self.assertEqual(counts(), before)
        self.assertIn("志愿者和任务的演示数据已经存在", out.getvalue())
        self.assertIn("卡口的演示数据已经存在", out.getvalue())
        self.assertIn("volunteer_1", out.getvalue())

    def test_it_merges_seventeen_gates_into_eight_checkpoints(self) -> None:
        runs = split(list(range(17)), 8)
        self.assertEqual([len(r) for r in runs], [3, 2, 2, 2, 2, 2, 2, 2])
        self.assertEqual([g for r in runs for g in r], list(range(17)))
        estate = seed.plan_for("estate").communities[0].compounds[0]
        self.assertEqual(len(estate.gates), 17)
        self.assertEqual(len(set(estate.gates)), 17)
