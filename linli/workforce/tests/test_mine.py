"""A volunteer's phone pages: my tasks and the open ones, taking, setting off, and the doors."""

from __future__ import annotations

import datetime as dt
import io
import re

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.response import HttpResponseBase
from django_scopes import scopes_disabled
from PIL import Image

from linli.notify.models import Message
from linli.registry.models import Community, Household
from linli.workforce import actions
from linli.workforce.choices import Skill, StopStatus, TaskKind, TaskStatus, VolunteerStatus
from linli.workforce.models import Task, TaskEvent, TaskStop, Volunteer
from linli.workforce.tests.test_actions import WorkforceTestCase

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
DOOR_CODE = "7193"
CSRF = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')


def photo(name: str = "door.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@time_machine.travel(NOW, tick=False)
class MinePagesTest(WorkforceTestCase):
    def setUp(self) -> None:
        self.me = self.make_volunteer(name="周志愿", skills=[Skill.HEAVY_LIFTING])
        self.other = self.make_volunteer(name="吴志强")
        with scopes_disabled():
            self.zhang_home = Household.objects.get(pk=self.zhang.household_id)
            self.open_task = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.DELIVERY_BUNDLE,
                title="送蔬菜包到1号楼",
                stops=[actions.StopInput(household=self.zhang_home, items="蔬菜包×1")],
            )
            TaskStop.objects.filter(task=self.open_task).update(door_code=DOOR_CODE)
            self.others_task = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.ERRAND,
                title="代购降压药",
            )
            actions.task_assign(actor=self.carol, task=self.others_task, volunteer=self.other)
            far_home = Household.objects.get(pk=self.zhao.household_id)
            self.far_task = actions.task_create(
                actor=self.root,
                community=self.community_b,
                kind=TaskKind.DELIVERY_BUNDLE,
                title="星河送货",
                stops=[actions.StopInput(household=far_home)],
            )
        self.login(self.me.user)

    def task(self, task: Task) -> Task:
        with scopes_disabled():
            return Task.objects.get(pk=task.pk)

    def stop(self, task: Task) -> TaskStop:
        with scopes_disabled():
            return TaskStop.objects.get(task=task)

    def take_and_start(self) -> TaskStop:
        self.assertEqual(self.client.post(f"/my/tasks/{self.open_task.pk}/take/").status_code, 302)
        self.assertEqual(self.client.post(f"/my/tasks/{self.open_task.pk}/start/").status_code, 302)
        return self.stop(self.open_task)

    def assert_nothing_personal(self, response: HttpResponseBase) -> None:
        page = CSRF.sub("", response.getvalue().decode())
        self.assertNotIn(DOOR_CODE, page)
        for secret in (
            "张建国",
            "曾小明",
            self.zhang.phone,
            self.zhang.id_number,
            "独居老人",
            "高血压",
        ):
            self.assertNotIn(secret, page)

    # --- who sees what --------------------------------------------------------------------

    def test_it_shows_my_tasks_and_the_open_ones_of_my_community(self) -> None:
        with scopes_disabled():
            mine = actions.task_create(
                actor=self.carol, community=self.community, kind=TaskKind.ERRAND, title="代取快递"
            )
            actions.task_assign(actor=self.carol, task=mine, volunteer=self.me)
        r = self.client.get("/my/")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "我的任务")
        self.assertContains(r, "待我接受")
        self.assertContains(r, "代取快递")
        self.assertContains(r, "可领取的任务")
        self.assertContains(r, "送蔬菜包到1号楼")
        self.assertContains(r, "送货到户")
        self.assertNotContains(r, "代购降压药")  # another volunteer's
        self.assertNotContains(r, "星河送货")  # another community's
        self.assert_nothing_personal(r)

    def test_it_404s_another_volunteers_task(self) -> None:
        self.assertEqual(self.client.get(f"/my/tasks/{self.others_task.pk}/").status_code, 404)
        for verb in ("accept", "release", "start", "finish", "fail"):
            r = self.client.post(f"/my/tasks/{self.others_task.pk}/{verb}/", {"reason": "x"})
            self.assertEqual(r.status_code, 404, verb)
        # Taking it: gone to someone else (who, and what it was, stay unsaid).
        r = self.client.post(f"/my/tasks/{self.others_task.pk}/take/")
        self.assertContains(r, "这个任务已被其他志愿者领取", status_code=400)
        self.assertNotContains(r, "代购降压药", status_code=400)
        r = self.client.post(f"/my/tasks/{self.far_task.pk}/take/")
        self.assertEqual(r.status_code, 404)
        task = self.task(self.others_task)
        self.assertEqual(task.status, TaskStatus.ASSIGNED)
        self.assertEqual(task.volunteer_id, self.other.pk)
        self.assertEqual(self.client.get(f"/my/tasks/{self.far_task.pk}/").status_code, 404)

    def test_it_404s_the_doors_of_a_task_that_is_not_mine(self) -> None:
        stop = self.stop(self.open_task)
        r = self.client.post(f"/my/stops/{stop.pk}/deliver/", {"code": DOOR_CODE})
        self.assertEqual(r.status_code, 404)
        # An open task shows what it is, not its doors.
        page = self.client.get(f"/my/tasks/{self.open_task.pk}/")
        self.assertNotContains(page, "阳光小区1号楼1单元101")
        self.assertEqual(self.stop(self.open_task).status, StopStatus.PENDING)

    def test_it_is_only_for_volunteers(self) -> None:
        for user in (self.carol, self.alice, self.kate, self.victor, self.oscar):
            self.login(user)
            self.assertEqual(self.client.get("/my/").status_code, 403, user.username)
            r = self.client.post(f"/my/tasks/{self.open_task.pk}/take/")
            self.assertEqual(r.status_code, 403, user.username)
        self.client.logout()
        self.assertEqual(self.client.get("/my/").status_code, 302)
        self.assertEqual(self.task(self.open_task).status, TaskStatus.OPEN)

    def test_it_only_acts_on_post(self) -> None:
        r = self.client.get(f"/my/tasks/{self.open_task.pk}/take/")
        self.assertEqual(r.status_code, 405)
        self.assertEqual(self.client.post(f"/my/tasks/{self.open_task.pk}/fly/").status_code, 404)
        self.assertEqual(self.task(self.open_task).status, TaskStatus.OPEN)

    # --- the task's way -------------------------------------------------------------------

    def test_it_takes_an_open_task(self) -> None:
        r = self.client.post(f"/my/tasks/{self.open_task.pk}/take/")
        self.assertRedirects(r, f"/my/tasks/{self.open_task.pk}/")
        task = self.task(self.open_task)
        self.assertEqual(task.status, TaskStatus.ACCEPTED)
        self.assertEqual(task.volunteer_id, self.me.pk)
        page = self.client.get(f"/my/tasks/{self.open_task.pk}/")
        self.assertContains(page, "出发")
        self.assertContains(page, "阳光小区1号楼1单元101")  # now theirs: the address
        self.assertContains(page, "蔬菜包×1")
        self.assert_nothing_personal(page)

        # Someone else is told it is gone, and nothing changes.
        self.login(self.other.user)
        r = self.client.post(f"/my/tasks/{self.open_task.pk}/take/")
        self.assertContains(r, "这个任务已被其他志愿者领取", status_code=400)
        self.assertEqual(self.task(self.open_task).volunteer_id, self.me.pk)

    def test_it_accepts_an_assigned_task_and_gives_it_back(self) -> None:
        with scopes_disabled():
            actions.task_assign(actor=self.carol, task=self.open_task, volunteer=self.me)
        r = self.client.post(f"/my/tasks/{self.open_task.pk}/accept/")
        self.assertEqual(r.status_code, 302)
        self.assertEqual(self.task(self.open_task).status, TaskStatus.ACCEPTED)
        r = self.client.post(f"/my/tasks/{self.open_task.pk}/release/", {"reason": "临时加班"})
        self.assertRedirects(r, "/my/")
        task = self.task(self.open_task)
        self.assertEqual(task.status, TaskStatus.OPEN)
        self.assertIsNone(task.volunteer_id)
        with scopes_disabled():
            self.assertEqual(TaskEvent.objects.filter(task=task).last().note, "临时加班")  # type: ignore[union-attr]

    def test_it_refuses_a_step_out_of_turn_with_the_reason(self) -> None:
        self.client.post(f"/my/tasks/{self.open_task.pk}/take/")
        r = self.client.post(f"/my/tasks/{self.open_task.pk}/accept/")
        self.assertEqual(r.status_code, 400)
        self.assertContains(r, "任务当前为“已接受”，不能这样操作", status_code=400)
        self.assertEqual(self.task(self.open_task).status, TaskStatus.ACCEPTED)

    def test_it_sets_off_and_the_household_gets_its_code(self) -> None:
        self.take_and_start()
        self.assertEqual(self.task(self.open_task).status, TaskStatus.IN_PROGRESS)
        with scopes_disabled():
            message = Message.objects.get(kind="task.on_the_way")
        self.assertEqual(message.to_phone, self.zhang.phone)
        self.assertIn(DOOR_CODE, message.body)
        page = self.client.get(f"/my/tasks/{self.open_task.pk}/")
        self.assertContains(page, "输入收货码")
        self.assertContains(page, "放门口")
        self.assertContains(page, "未送达")
        self.assert_nothing_personal(page)

    def test_it_delivers_with_the_code_and_finishes_the_task(self) -> None:
        stop = self.take_and_start()
        r = self.client.post(f"/my/stops/{stop.pk}/deliver/", {"code": "0000"})
        self.assertContains(r, "收货码不正确", status_code=400)
        self.assert_nothing_personal(r)
        stop = self.stop(self.open_task)
        self.assertEqual((stop.status, stop.code_attempts), (StopStatus.PENDING, 1))

        r = self.client.post(f"/my/stops/{stop.pk}/deliver/", {"code": DOOR_CODE})
        self.assertRedirects(r, f"/my/tasks/{self.open_task.pk}/")
        stop = self.stop(self.open_task)
        self.assertEqual(stop.status, StopStatus.DELIVERED)
        self.assertEqual(stop.done_by_id, self.me.user_id)
        task = self.task(self.open_task)
        self.assertEqual(task.status, TaskStatus.DONE)
        self.assertGreater(task.minutes, 0)
        page = self.client.get("/my/")
        self.assertContains(page, "最近完成")
        self.assertContains(page, f'<strong id="my-hours">{round(task.minutes / 60, 1)}</strong>')

    def test_it_answers_htmx_with_the_door_row_and_the_task_head(self) -> None:
        stop = self.take_and_start()
        r = self.client.post(
            f"/my/stops/{stop.pk}/deliver/", {"code": "12"}, headers={"HX-Request": "true"}
        )
        self.assertContains(r, "收货码不正确", status_code=400)
        self.assertContains(r, f'id="stop-{stop.pk}"', status_code=400)
        self.assertNotContains(r, "<html", status_code=400)
        r = self.client.post(
            f"/my/stops/{stop.pk}/deliver/", {"code": DOOR_CODE}, headers={"HX-Request": "true"}
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "已送达（收货码）")
        self.assertContains(r, 'hx-swap-oob="true"')
        self.assertContains(r, "已完成")
        self.assert_nothing_personal(r)
        self.assertEqual(self.task(self.open_task).status, TaskStatus.DONE)

    def test_it_leaves_goods_at_the_door_with_a_photo_and_tells_the_household(self) -> None:
        stop = self.take_and_start()
        r = self.client.post(
            f"/my/stops/{stop.pk}/left/", {"photo": photo()}, headers={"HX-Request": "true"}
        )
        self.assertContains(r, "已放门口")
        self.assert_nothing_personal(r)
        stop = self.stop(self.open_task)
        self.assertEqual(stop.status, StopStatus.LEFT_AT_DOOR)
        self.assertEqual(stop.proof, "photo")
        self.assertTrue(stop.photo.name.endswith(".png"))
        with scopes_disabled():
            told = Message.objects.get(kind="task.left_at_door")
        self.assertEqual(told.to_phone, self.zhang.phone)
        self.assertIn("阳光小区1号楼1单元101", told.body)
        self.assertEqual(self.task(self.open_task).status, TaskStatus.DONE)

    def test_it_refuses_a_file_that_is_not_a_photo(self) -> None:
        stop = self.take_and_start()
        junk = SimpleUploadedFile("door.png", b"not an image", content_type="image/png")
        r = self.client.post(f"/my/stops/{stop.pk}/left/", {"photo": junk})
        self.assertContains(r, "请上传照片", status_code=400)
        self.assertEqual(self.stop(self.open_task).status, StopStatus.PENDING)
        with scopes_disabled():
            self.assertFalse(Message.objects.filter(kind="task.left_at_door").exists())

    def test_it_records_a_door_not_reached_with_its_reason(self) -> None:
        stop = self.take_and_start()
        r = self.client.post(f"/my/stops/{stop.pk}/fail/", {"reason": "  "})
        self.assertContains(r, "请填写未送达的原因", status_code=400)
        self.assertEqual(self.stop(self.open_task).status, StopStatus.PENDING)
        r = self.client.post(f"/my/stops/{stop.pk}/fail/", {"reason": "家中无人，电话未接"})
        self.assertEqual(r.status_code, 302)
        stop = self.stop(self.open_task)
        self.assertEqual(stop.status, StopStatus.FAILED)
        self.assertEqual(stop.failure_reason, "家中无人，电话未接")
        # A door already closed cannot be closed again.
        r = self.client.post(f"/my/stops/{stop.pk}/deliver/", {"code": DOOR_CODE})
        self.assertEqual(r.status_code, 400)
        self.assertEqual(self.stop(self.open_task).status, StopStatus.FAILED)

    def test_it_finishes_and_fails_a_task_without_doors(self) -> None:
        with scopes_disabled():
            errand = actions.task_create(
                actor=self.carol, community=self.community, kind=TaskKind.ERRAND, title="代取快递"
            )
            duty = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.DUTY_SHIFT,
                title="东门值守",
            )
        for task in (errand, duty):
            self.client.post(f"/my/tasks/{task.pk}/take/")
            self.client.post(f"/my/tasks/{task.pk}/start/")
        page = self.client.get(f"/my/tasks/{errand.pk}/")
        self.assertContains(page, "完成")
        r = self.client.post(
            f"/my/tasks/{errand.pk}/finish/", {"note": "已放驿站", "photo": photo("p.png")}
        )
        self.assertEqual(r.status_code, 302)
        errand = self.task(errand)
        self.assertEqual(errand.status, TaskStatus.DONE)
        self.assertEqual(errand.proof_note, "已放驿站")
        self.assertTrue(errand.proof_photo.name)

        r = self.client.post(f"/my/tasks/{duty.pk}/fail/", {"reason": ""})
        self.assertContains(r, "请填写未完成的原因", status_code=400)
        self.assertEqual(self.task(duty).status, TaskStatus.IN_PROGRESS)
        r = self.client.post(f"/my/tasks/{duty.pk}/fail/", {"reason": "身体不适"})
        self.assertEqual(r.status_code, 302)
        duty = self.task(duty)
        self.assertEqual((duty.status, duty.failure_reason), (TaskStatus.FAILED, "身体不适"))

    # --- why not ----------------------------------------------------------------------------

    def test_it_shows_a_missing_skill_instead_of_the_take_button(self) -> None:
        with scopes_disabled():
            drive = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.ERRAND,
                title="开车送透析",
                required_skills=[Skill.DRIVER],
            )
        r = self.client.get("/my/")
        self.assertContains(r, "缺少技能：驾驶")
        self.assertNotContains(r, f'action="/my/tasks/{drive.pk}/take/"')
        self.assertContains(r, f'action="/my/tasks/{self.open_task.pk}/take/"')
        r = self.client.post(f"/my/tasks/{drive.pk}/take/")
        self.assertContains(r, "缺少技能：驾驶", status_code=400)
        self.assertEqual(self.task(drive).status, TaskStatus.OPEN)

    def test_it_shows_a_stale_test_and_takes_a_fresh_one(self) -> None:
        with scopes_disabled():
            Community.objects.filter(pk=self.community.pk).update(volunteer_test_required=True)
            Volunteer.objects.filter(pk=self.me.pk).update(
                last_negative_test_at=NOW - dt.timedelta(hours=50)
            )
        r = self.client.get("/my/")
        self.assertContains(r, "核酸阴性已超过48小时")
        self.assertNotContains(r, f'action="/my/tasks/{self.open_task.pk}/take/"')
        r = self.client.post(f"/my/tasks/{self.open_task.pk}/take/")
        self.assertContains(r, "核酸阴性已超过48小时", status_code=400)
        self.assertEqual(self.task(self.open_task).status, TaskStatus.OPEN)

        r = self.client.post("/my/test/", {"last_negative_test_at": "2026-11-20T13:00"})
        self.assertContains(r, "核酸检测时间不能晚于现在", status_code=400)
        r = self.client.post("/my/test/", {"last_negative_test_at": "2026-11-20T07:30"})
        self.assertRedirects(r, "/my/")
        with scopes_disabled():
            self.me.refresh_from_db()
        self.assertEqual(self.me.last_negative_test_at, NOW - dt.timedelta(hours=4, minutes=30))
        r = self.client.get("/my/")
        self.assertNotContains(r, "核酸阴性已超过")
        self.assertContains(r, f'action="/my/tasks/{self.open_task.pk}/take/"')

    def test_it_shows_a_volunteer_set_back_to_unverified(self) -> None:
        # Review switches the account off with the record; a record edited back to pending
        # (by the admin site, say) while the account stays on must still not take tasks.
        with scopes_disabled():
            Volunteer.objects.filter(pk=self.me.pk).update(status=VolunteerStatus.PENDING)
        r = self.client.get("/my/")
        self.assertContains(r, "审核通过后才能接任务")
        self.assertNotContains(r, f'action="/my/tasks/{self.open_task.pk}/take/"')
        r = self.client.get(f"/my/tasks/{self.open_task.pk}/")
        self.assertContains(r, "审核通过后才能接任务")
        r = self.client.post(f"/my/tasks/{self.open_task.pk}/take/")
        self.assertEqual(r.status_code, 400)
        self.assertEqual(self.task(self.open_task).status, TaskStatus.OPEN)
