"""Staff pages for the task board: the board, a new task with its doors, one task with the
steps staff take (assign with the eligibility rules, cancel, reopen, release, minutes), door
codes, and proof photos that only the right people can open."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled
from PIL import Image

from linli.registry.models import Community, Household
from linli.workforce import actions
from linli.workforce.choices import StopStatus, TaskKind, TaskStatus, VolunteerStatus
from linli.workforce.models import Task, TaskEvent, TaskStop, Volunteer
from linli.workforce.tests.test_volunteer_pages import NOON, StaffPagesTestCase


def png(name: str = "proof.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


class TaskPagesTestCase(StaffPagesTestCase):
    def household(self, resident_pk: int) -> Household:
        with scopes_disabled():
            return Household.objects.get(residents__pk=resident_pk)

    def door_task(self, *households: Household, **fields: object) -> Task:
        homes = households or (self.household(self.zhang.pk),)
        return self.make_task(
            "送蔬菜包",
            kind=TaskKind.DELIVERY_BUNDLE,
            stops=[actions.StopInput(household=h, items="蔬菜包×1") for h in homes],
            **fields,
        )

    def task_now(self, task: Task) -> Task:
        with scopes_disabled():
            return Task.objects.select_related("volunteer").get(pk=task.pk)

    def events(self, task: Task) -> int:
        with scopes_disabled():
            return TaskEvent.objects.filter(task=task).count()

    def tasks(self) -> list[Task]:
        with scopes_disabled():
            return list(Task.objects.order_by("pk"))


class TaskBoardTest(TaskPagesTestCase):
    def test_it_shows_what_still_needs_doing_by_default(self) -> None:
        self.make_task("北门值守")
        cancelled = self.make_task("已取消的任务")
        with scopes_disabled():
            actions.task_cancel(actor=self.carol, task=cancelled, reason="不需要了")
        self.login(self.carol)
        url = reverse("workforce:task_list")
        response = self.client.get(url)
        self.assertContains(response, "北门值守")
        self.assertNotContains(response, "已取消的任务")
        self.assertContains(self.client.get(url, {"status": "all"}), "已取消的任务")
        self.assertContains(self.client.get(url, {"status": "cancelled"}), "已取消的任务")
        self.assertContains(response, 'class="status-open"')

    def test_it_filters_by_kind_and_day_and_shows_the_window_in_shanghai_time(self) -> None:
        starts = dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC)  # 09:00 Shanghai
        self.make_task("北门值守", starts_at=starts, ends_at=starts + dt.timedelta(hours=3))
        self.make_task("帮买药", kind=TaskKind.ERRAND, required_skills=["driver"])
        self.login(self.carol)
        url = reverse("workforce:task_list")
        response = self.client.get(url, {"kind": TaskKind.DUTY_SHIFT})
        self.assertContains(response, "北门值守")
        self.assertContains(response, "2026-11-21 09:00–12:00")
        self.assertNotContains(response, "帮买药")
        response = self.client.get(url, {"kind": TaskKind.ERRAND})
        self.assertContains(response, "驾驶")
        self.assertContains(self.client.get(url, {"day": "2026-11-21"}), "北门值守")
        self.assertNotContains(self.client.get(url, {"day": "2026-11-22"}), "北门值守")

    def test_it_is_for_dispatchers_of_the_area_only(self) -> None:
        task = self.make_task("北门值守")
        with scopes_disabled():
            actions.task_create(
                actor=self.root, community=self.community_b, kind=TaskKind.ERRAND, title="星河代购"
            )
        for user in (self.carol, self.alice, self.olivia, self.dave):
            self.login(user)
            response = self.client.get(reverse("workforce:task_list"))
            self.assertContains(response, "北门值守")
            self.assertEqual("星河代购" in response.content.decode(), user == self.dave)
        for user in (self.kate, self.victor, self.sam, self.rita_user, self.oscar):
            self.login(user)
            self.assertEqual(self.client.get(reverse("workforce:task_list")).status_code, 403)
            url = reverse("workforce:task_detail", args=[task.pk])
            self.assertEqual(self.client.get(url).status_code, 403)


class TaskCreateTest(TaskPagesTestCase):
    url = "/tasks/new/"

    def test_it_creates_a_duty_shift_with_its_window_in_shanghai_time(self) -> None:
        self.login(self.carol)
        self.assertEqual(self.client.get(self.url).status_code, 200)
        response = self.client.post(
            self.url,
            {
                "community": self.community.pk,
                "kind": TaskKind.DUTY_SHIFT,
                "title": "北门值守",
                "buildings": [self.unit1.building.pk],
                "starts_at": "2026-11-21T09:00",
                "ends_at": "2026-11-21T12:00",
                "required_skills": ["medical"],
                "size": "2",
            },
        )
        [task] = self.tasks()
        self.assertRedirects(response, reverse("workforce:task_detail", args=[task.pk]))
        self.assertEqual(task.starts_at, dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC))
        self.assertEqual(task.ends_at, dt.datetime(2026, 11, 21, 4, 0, tzinfo=dt.UTC))
        self.assertEqual(task.required_skills, ["medical"])
        self.assertEqual(task.size, 2)
        self.assertEqual(task.created_by, self.carol)
        self.assertEqual(task.place, "阳光小区1号楼")
        self.assertEqual(task.status, TaskStatus.OPEN)

    def test_it_creates_a_delivery_with_the_ticked_rooms(self) -> None:
        zhang, zeng = self.household(self.zhang.pk), self.household(self.zeng.pk)
        self.login(self.carol)
        response = self.client.post(
            self.url,
            {
                "community": self.community.pk,
                "kind": TaskKind.DELIVERY_BUNDLE,
                "title": "送蔬菜包",
                "unit": self.unit1.pk,
                "households": [zhang.pk, zeng.pk],
                "items": "蔬菜包×1",
            },
        )
        [task] = self.tasks()
        self.assertRedirects(response, reverse("workforce:task_detail", args=[task.pk]))
        with scopes_disabled():
            stops = list(TaskStop.objects.filter(task=task).order_by("position"))
        self.assertEqual([s.household_id for s in stops], [zhang.pk, zeng.pk])
        self.assertEqual([s.items for s in stops], ["蔬菜包×1", "蔬菜包×1"])
        self.assertEqual(stops[0].address, "阳光小区1号楼1单元101")
        self.assertEqual(task.size, 2)

    def test_it_refuses_a_door_task_without_households(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            self.url,
            {"community": self.community.pk, "kind": TaskKind.DOOR_SERVICE, "title": "上门采样"},
        )
        self.assertContains(response, "请至少选择一户", status_code=400)
        self.assertEqual(self.tasks(), [])

    def test_it_refuses_a_household_outside_the_area(self) -> None:
        zhao = self.household(self.zhao.pk)  # 星河社区
        data = {
            "community": self.community.pk,
            "kind": TaskKind.DELIVERY_BUNDLE,
            "title": "送蔬菜包",
            "households": [zhao.pk],
        }
        self.login(self.carol)
        response = self.client.post(self.url, data)
        self.assertContains(response, "不在您的管辖范围内", status_code=400)
        self.login(self.dave)  # sees 星河社区, but the task is 阳光社区's
        response = self.client.post(self.url, data)
        self.assertContains(response, "不在本社区", status_code=400)
        self.assertEqual(self.tasks(), [])

    def test_it_lists_only_a_grid_workers_own_rooms(self) -> None:
        li = self.household(self.li.pk)  # grid 2
        self.login(self.alice)
        households = reverse("workforce:task_households")
        response = self.client.get(households, {"unit": self.unit1.pk})
        self.assertContains(response, "101")
        self.assertContains(response, "102")
        self.assertEqual(self.client.get(households, {"unit": self.unit2.pk}).status_code, 404)
        response = self.client.post(
            self.url,
            {
                "community": self.community.pk,
                "kind": TaskKind.DELIVERY_BUNDLE,
                "title": "送蔬菜包",
                "households": [li.pk],
            },
        )
        self.assertContains(response, "不在您的管辖范围内", status_code=400)
        self.assertEqual(self.tasks(), [])

    def test_it_lists_the_rooms_of_a_unit_without_javascript(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            self.url, {"unit": self.unit1.pk, "show_unit": "1", "kind": TaskKind.DELIVERY_BUNDLE}
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'name="households" value="')
        self.assertEqual(self.tasks(), [])

    def test_it_explains_a_window_that_ends_before_it_starts(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            self.url,
            {
                "community": self.community.pk,
                "kind": TaskKind.DUTY_SHIFT,
                "title": "北门值守",
                "starts_at": "2026-11-21T12:00",
                "ends_at": "2026-11-21T09:00",
            },
        )
        self.assertContains(response, "结束时间必须晚于开始时间", status_code=400)
        self.assertEqual(self.tasks(), [])

    def test_it_is_for_dispatchers_only(self) -> None:
        for user in (self.kate, self.victor, self.sam, self.oscar):
            self.login(user)
            response = self.client.post(
                self.url,
                {"community": self.community.pk, "kind": TaskKind.ERRAND, "title": "代购"},
            )
            self.assertEqual(response.status_code, 403)
        self.assertEqual(self.tasks(), [])


class AssignTest(TaskPagesTestCase):
    def assign(self, task: Task, volunteer: Volunteer, **headers: str) -> Any:
        url = reverse("workforce:task_assign", args=[task.pk])
        return self.client.post(url, {"volunteer": volunteer.pk}, headers=headers)

    def assert_unchanged(self, task: Task, events: int) -> None:
        now = self.task_now(task)
        self.assertEqual(now.status, TaskStatus.OPEN)
        self.assertIsNone(now.volunteer)
        self.assertEqual(self.events(task), events)

    def test_it_assigns_an_eligible_volunteer(self) -> None:
        volunteer = self.make_volunteer("吴志强")
        task = self.make_task()
        self.login(self.alice)
        response = self.assign(task, volunteer)
        self.assertRedirects(response, reverse("workforce:task_detail", args=[task.pk]))
        now = self.task_now(task)
        self.assertEqual(now.status, TaskStatus.ASSIGNED)
        self.assertEqual(now.volunteer, volunteer)
        with scopes_disabled():
            event = TaskEvent.objects.filter(task=task).latest("pk")
        self.assertEqual(event.actor, self.alice)
        self.assertEqual(event.to_status, TaskStatus.ASSIGNED)

    def test_it_refuses_a_volunteer_not_yet_verified(self) -> None:
        volunteer = self.make_volunteer(status=VolunteerStatus.PENDING)
        task = self.make_task()
        events = self.events(task)
        self.login(self.carol)
        response = self.assign(task, volunteer)
        self.assertContains(response, "审核通过后才能接任务", status_code=400)
        self.assert_unchanged(task, events)

    def test_it_refuses_a_stale_test_when_the_community_requires_one(self) -> None:
        with scopes_disabled():
            Community.objects.filter(pk=self.community.pk).update(volunteer_test_required=True)
        with time_machine.travel(NOON, tick=False):
            volunteer = self.make_volunteer(last_negative_test_at=NOON - dt.timedelta(hours=49))
            fresh = self.make_volunteer(
                "新检测", last_negative_test_at=NOON - dt.timedelta(hours=2)
            )
            task = self.make_task()
            events = self.events(task)
            self.login(self.carol)
            detail = self.client.get(reverse("workforce:task_detail", args=[task.pk]))
            self.assertContains(detail, "核酸阴性已超过48小时")
            response = self.assign(task, volunteer)
            self.assertContains(response, "核酸阴性已超过48小时", status_code=400)
            self.assert_unchanged(task, events)
            self.assertEqual(self.assign(task, fresh).status_code, 302)
        self.assertEqual(self.task_now(task).volunteer, fresh)

    def test_it_refuses_a_volunteer_missing_a_skill(self) -> None:
        volunteer = self.make_volunteer(skills=["medical"])
        task = self.make_task("送病人", kind=TaskKind.ERRAND, required_skills=["driver"])
        events = self.events(task)
        self.login(self.carol)
        response = self.assign(task, volunteer, **{"HX-Request": "true"})
        self.assertContains(response, "缺少技能：驾驶", status_code=400)
        self.assertContains(response, 'id="task-panel"', status_code=400)
        self.assertNotContains(response, "<html", status_code=400)
        self.assert_unchanged(task, events)

    def test_it_shows_why_each_volunteer_is_or_is_not_eligible(self) -> None:
        self.make_volunteer("有驾照", skills=["driver"])
        self.make_volunteer("没驾照")
        task = self.make_task("送病人", kind=TaskKind.ERRAND, required_skills=["driver"])
        self.login(self.carol)
        content = self.client.get(reverse("workforce:task_detail", args=[task.pk])).content
        text = content.decode()
        self.assertIn("有驾照 · 可指派", text)
        self.assertIn("没驾照 · 不可指派：缺少技能：驾驶", text)

    def test_it_keeps_volunteers_of_other_communities_off(self) -> None:
        elsewhere = self.make_volunteer("星河志愿者", community=self.community_b)
        task = self.make_task()
        events = self.events(task)
        self.login(self.carol)
        self.assertEqual(self.assign(task, elsewhere).status_code, 404)
        self.login(self.dave)
        response = self.assign(task, elsewhere)
        self.assertContains(response, "不属于该任务所在社区", status_code=400)
        self.assert_unchanged(task, events)


class TaskStepsTest(TaskPagesTestCase):
    def taken(self, task: Task) -> Volunteer:
        volunteer = self.make_volunteer()
        with scopes_disabled():
            actions.task_assign(actor=self.carol, task=task, volunteer=volunteer)
        return volunteer

    def test_it_cancels_with_a_reason_only(self) -> None:
        task = self.make_task()
        self.taken(task)
        self.login(self.carol)
        url = reverse("workforce:task_cancel", args=[task.pk])
        response = self.client.post(url, {"cancel-reason": ""})
        self.assertContains(response, "请填写取消原因", status_code=400)
        self.assertEqual(self.task_now(task).status, TaskStatus.ASSIGNED)
        response = self.client.post(url, {"cancel-reason": "物资未到"})
        self.assertEqual(response.status_code, 302)
        now = self.task_now(task)
        self.assertEqual(now.status, TaskStatus.CANCELLED)
        self.assertIsNotNone(now.volunteer)  # who had it stays on record
        detail = self.client.get(reverse("workforce:task_detail", args=[task.pk]))
        self.assertContains(detail, "物资未到")
        self.assertNotContains(detail, url)

    def test_it_releases_the_volunteer(self) -> None:
        task = self.make_task()
        self.taken(task)
        self.login(self.carol)
        url = reverse("workforce:task_release", args=[task.pk])
        response = self.client.post(url, {"release-reason": "志愿者临时有事"})
        self.assertEqual(response.status_code, 302)
        now = self.task_now(task)
        self.assertEqual(now.status, TaskStatus.OPEN)
        self.assertIsNone(now.volunteer)
        response = self.client.post(url, {"release-reason": ""})
        self.assertContains(response, "不能这样操作", status_code=400)

    def test_it_reopens_a_failed_task(self) -> None:
        task = self.door_task(self.household(self.zhang.pk), self.household(self.zeng.pk))
        volunteer = self.taken(task)
        with scopes_disabled():
            actions.task_accept(actor=volunteer.user, task=task)
            actions.task_start(actor=volunteer.user, task=task)
            stop = TaskStop.objects.filter(task=task).order_by("position").first()
            assert stop is not None
            actions.stop_fail(actor=volunteer.user, stop=stop, reason="家中无人")
            actions.task_fail(actor=volunteer.user, task=task, reason="家中无人")
        self.login(self.carol)
        detail = self.client.get(reverse("workforce:task_detail", args=[task.pk]))
        self.assertContains(detail, "家中无人")
        url = reverse("workforce:task_reopen", args=[task.pk])
        response = self.client.post(
            url, {"reopen-reason": "明天再送"}, headers={"HX-Request": "true"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="task-panel"')
        now = self.task_now(task)
        self.assertEqual(now.status, TaskStatus.OPEN)
        self.assertIsNone(now.volunteer)
        with scopes_disabled():
            statuses = set(TaskStop.objects.filter(task=task).values_list("status", flat=True))
        self.assertEqual(statuses, {StopStatus.PENDING})
        self.assertContains(self.client.post(url, {}), "不能这样操作", status_code=400)

    def test_it_lets_only_community_staff_correct_the_minutes(self) -> None:
        task = self.make_task()
        self.login(self.alice)
        response = self.client.post(
            reverse("workforce:task_minutes", args=[task.pk]), {"minutes": "60"}
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.task_now(task).minutes, 0)

    def test_it_sets_the_minutes_of_a_done_task(self) -> None:
        task = self.make_task()
        url = reverse("workforce:task_minutes", args=[task.pk])
        self.login(self.carol)
        response = self.client.post(url, {"minutes": "60"})
        self.assertContains(response, "只有已完成的任务才计服务时长", status_code=400)
        volunteer = self.taken(task)
        with scopes_disabled():
            actions.task_accept(actor=volunteer.user, task=task)
            actions.task_start(actor=volunteer.user, task=task)
            actions.task_finish(actor=volunteer.user, task=task)
        before = self.task_now(task).minutes
        for bad in ("-5", "1441", "一小时"):
            self.assertEqual(self.client.post(url, {"minutes": bad}).status_code, 400, bad)
            self.assertEqual(self.task_now(task).minutes, before)
        self.assertEqual(self.client.post(url, {"minutes": "90"}).status_code, 302)
        self.assertEqual(self.task_now(task).minutes, 90)

    def test_it_shows_the_timeline_and_door_codes_to_staff(self) -> None:
        task = self.door_task()
        self.taken(task)
        with scopes_disabled():
            stop = TaskStop.objects.get(task=task)
        self.login(self.alice)
        response = self.client.get(reverse("workforce:task_detail", args=[task.pk]))
        self.assertContains(response, stop.door_code)
        self.assertContains(response, "阳光小区1号楼1单元101")
        self.assertContains(response, "蔬菜包×1")
        events = response.content.decode().split('id="task-events"')[1]
        self.assertIn("创建任务", events)
        self.assertIn("待领取 → 已指派", events)
        self.assertIn("carol", events)

    def test_it_keeps_other_communities_tasks_out(self) -> None:
        with scopes_disabled():
            task = actions.task_create(
                actor=self.root, community=self.community_b, kind=TaskKind.ERRAND, title="星河代购"
            )
        self.login(self.carol)
        self.assertEqual(
            self.client.get(reverse("workforce:task_detail", args=[task.pk])).status_code, 404
        )
        url = reverse("workforce:task_cancel", args=[task.pk])
        self.assertEqual(self.client.post(url, {"cancel-reason": "越权"}).status_code, 404)
        self.assertEqual(self.task_now(task).status, TaskStatus.OPEN)


class PhotoTest(TaskPagesTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.task = self.door_task()
        self.volunteer = self.make_volunteer("送货人")
        self.other = self.make_volunteer("旁人")
        with scopes_disabled():
            actions.task_assign(actor=self.carol, task=self.task, volunteer=self.volunteer)
            actions.task_accept(actor=self.volunteer.user, task=self.task)
            actions.task_start(actor=self.volunteer.user, task=self.task)
            self.stop = TaskStop.objects.get(task=self.task)
            actions.stop_left_at_door(actor=self.volunteer.user, stop=self.stop, photo=png())
            self.stop.refresh_from_db()

    def test_it_streams_a_door_photo_to_staff_and_the_volunteer(self) -> None:
        url = reverse("workforce:stop_photo", args=[self.stop.pk])
        for user in (self.carol, self.alice, self.dave, self.volunteer.user):
            self.login(user)
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, user)
            self.assertEqual(response["Content-Type"], "image/png")
            self.assertIn("no-store", response["Cache-Control"])
            self.assertTrue(response.getvalue().startswith(b"\x89PNG"))

    def test_it_hides_a_door_photo_from_everyone_else(self) -> None:
        url = reverse("workforce:stop_photo", args=[self.stop.pk])
        for user in (self.other.user, self.kate, self.sam, self.rita_user, self.oscar):
            self.login(user)
            self.assertEqual(self.client.get(url).status_code, 404, user)
        self.client.logout()
        self.assertEqual(self.client.get(url).status_code, 302)

    def test_it_links_the_photo_from_the_task_page_not_the_media_url(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("workforce:task_detail", args=[self.task.pk]))
        self.assertContains(response, reverse("workforce:stop_photo", args=[self.stop.pk]))
        self.assertNotContains(response, self.stop.photo.name)

    def test_it_streams_a_task_photo_to_the_same_people(self) -> None:
        task = self.make_task()
        with scopes_disabled():
            actions.task_assign(actor=self.carol, task=task, volunteer=self.volunteer)
            actions.task_accept(actor=self.volunteer.user, task=task)
            actions.task_start(actor=self.volunteer.user, task=task)
            actions.task_finish(actor=self.volunteer.user, task=task, photo=png("done.png"))
        url = reverse("workforce:task_photo", args=[task.pk])
        for user, status in (
            (self.carol, 200),
            (self.volunteer.user, 200),
            (self.other.user, 404),
            (self.kate, 404),
            (self.oscar, 404),
        ):
            self.login(user)
            self.assertEqual(self.client.get(url).status_code, status, user)
        self.login(self.carol)
        no_photo = reverse("workforce:task_photo", args=[self.task.pk])
        self.assertEqual(self.client.get(no_photo).status_code, 404)
