"""A volunteer's journey on a phone, in a real browser: sign up by the QR page, get verified
by community staff, sign in with the phone number, take a delivery and hand it over with
the household's code."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from typing import Any, ClassVar

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from linli.lib import browser_testing
from linli.lib.identity import compose_id_number
from linli.notify.models import Message
from linli.registry.models import Household
from linli.test import PASSWORD, BaseTestCase
from linli.workforce import actions
from linli.workforce.choices import StopStatus, TaskKind, TaskStatus, VolunteerStatus
from linli.workforce.models import Task, TaskEvent, TaskStop, Volunteer

pytestmark = pytest.mark.browser

PHONE_NUMBER = "13700001111"
VOLUNTEER_PASSWORD = "lanterns and kites"
ID_NUMBER = compose_id_number("110101", dt.date(1988, 4, 9), 321)


class VolunteerJourneyTests(browser_testing.BrowserTestCase):
    viewport: ClassVar[dict[str, int]] = {"width": 375, "height": 812}
    carol: Any
    community: Any
    zhang: Any

    def setUp(self) -> None:
        with scopes_disabled():
            BaseTestCase.build_world.__func__(self)  # type: ignore[attr-defined]
        super().setUp()

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=os.path.join(tempfile.gettempdir(), f"linli-{name}.png"))

    def fits_the_screen(self) -> bool:
        fits: bool = self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        return fits

    def sign_up(self) -> Volunteer:
        page = self.page
        page.goto(f"{self.live_server_url}/join/yangguang/")
        page.fill("#id_name", "周志愿")
        page.fill("#id_phone", PHONE_NUMBER)
        page.fill("#id_id_number", ID_NUMBER)
        page.select_option("#id_compound", label="阳光小区")
        # HTMX swaps the grouped list for the buildings of that compound alone.
        expect(page.locator("#id_building optgroup")).to_have_count(0)
        page.select_option("#id_building", label="1号楼")
        page.get_by_label("搬运重物").check()
        page.get_by_label("周六上午").check()
        page.get_by_label("周六下午").check()
        page.get_by_label("是否党员").check()
        page.fill("#id_work_unit", "区卫健委")
        yesterday = timezone.localtime() - dt.timedelta(days=1)
        page.fill("#id_last_negative_test_at", yesterday.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#id_password", VOLUNTEER_PASSWORD)
        page.fill("#id_password2", VOLUNTEER_PASSWORD)
        assert self.fits_the_screen()
        self.screenshot("volunteer-signup")
        page.get_by_role("button", name="提交报名").click()
        expect(page.locator("#signup-done")).to_contain_text(
            "已提交，社区审核通过后即可用手机号和密码登录"
        )
        with scopes_disabled():
            volunteer = Volunteer.objects.select_related("user", "building").get()
        assert volunteer.status == VolunteerStatus.PENDING
        assert not volunteer.user.is_active
        assert volunteer.phone == PHONE_NUMBER
        assert volunteer.building is not None
        assert volunteer.building.name == "1号楼"
        assert volunteer.skills == ["heavy_lifting"]
        assert volunteer.availability == ["6-am", "6-pm"]
        return volunteer

    def verify_as_staff(self, volunteer: Volunteer) -> None:
        """Carol verifies the sign-up on the staff page (in her own browser)."""
        staff = self.browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
        try:
            page = staff.new_page()
            page.goto(f"{self.live_server_url}/login/")
            page.fill("#id_username", "carol")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator(".who")).to_contain_text("carol")
            page.goto(f"{self.live_server_url}/volunteers/{volunteer.pk}/")
            page.locator("#volunteer-review button[value=verified]").click()
            expect(page.locator("#volunteer-status")).to_have_text("已审核")
        finally:
            staff.close()

    def test_it_signs_up_is_verified_takes_a_delivery_and_hands_it_over(self) -> None:
        page = self.page
        volunteer = self.sign_up()

        # Not yet: the login page says why (only to whoever knows the password).
        page.goto(f"{self.live_server_url}/login/")
        page.fill("#id_username", PHONE_NUMBER)
        page.fill("#id_password", VOLUNTEER_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".errorlist")).to_contain_text("账号待社区审核")

        self.verify_as_staff(volunteer)
        self.log_in(PHONE_NUMBER, VOLUNTEER_PASSWORD, shown_as="周志愿")

        with scopes_disabled():
            household = Household.objects.get(pk=self.zhang.household_id)
            task = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.DELIVERY_BUNDLE,
                title="送蔬菜包",
                stops=[actions.StopInput(household=household, items="蔬菜包×1")],
            )
            stop = TaskStop.objects.get(task=task)

        page.goto(f"{self.live_server_url}/my/")
        card = page.locator(f"#open-task-{task.pk}")
        expect(card).to_contain_text("送蔬菜包")
        assert self.fits_the_screen()
        self.screenshot("volunteer-board")
        card.get_by_role("button", name="领取").click()
        expect(page.locator("#task-status")).to_have_text("已接受")
        page.get_by_role("button", name="出发").click()
        expect(page.locator("#task-status")).to_have_text("进行中")
        self.screenshot("volunteer-doors")

        # The household got the code by message; they tell it at the door.
        with scopes_disabled():
            told = Message.objects.get(kind="task.on_the_way")
        assert told.to_phone == self.zhang.phone
        found = re.search(r"收货码 (\d{4})", told.body)
        assert found is not None
        code = found.group(1)
        row = page.locator(f"#stop-{stop.pk}")
        expect(row).to_contain_text("阳光小区1号楼1单元101")
        expect(page.locator("body")).not_to_contain_text("张建国")
        expect(page.locator("body")).not_to_contain_text("独居老人")

        wrong = "0000" if code != "0000" else "1111"
        row.get_by_label("输入收货码").fill(wrong)
        row.get_by_role("button", name="确认送达").click()
        expect(row.locator(".errorlist")).to_contain_text("收货码不正确")

        row.get_by_label("输入收货码").fill(code)
        row.get_by_role("button", name="确认送达").click()
        expect(row.locator(".stop-status")).to_have_text("已送达（收货码）")
        expect(page.locator("#task-status")).to_have_text("已完成")
        assert self.fits_the_screen()
        self.screenshot("volunteer-delivered")

        with scopes_disabled():
            task = Task.objects.get(pk=task.pk)
            stop = TaskStop.objects.get(pk=stop.pk)
            steps = list(
                TaskEvent.objects.filter(task=task).values_list("from_status", "to_status")
            )
        assert task.status == TaskStatus.DONE
        assert task.volunteer_id == volunteer.pk
        assert task.minutes > 0
        assert stop.status == StopStatus.DELIVERED
        assert stop.proof == "code"
        assert stop.done_by_id == volunteer.user_id
        assert stop.code_attempts == 1
        assert steps == [
            ("", TaskStatus.OPEN),
            (TaskStatus.OPEN, TaskStatus.ACCEPTED),
            (TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS),
            (TaskStatus.IN_PROGRESS, TaskStatus.DONE),
        ]
