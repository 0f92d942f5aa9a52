"""Micro-wishes in a real browser: staff publish a batch, a party member claims a wish on a
phone (375×812) through the QR page's URL, staff send it to the door as a wish delivery, and
a volunteer hands it over with the household's code; the wish is then 已送达."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from typing import Any, ClassVar

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from linli.lib import browser_testing
from linli.lib.identity import compose_id_number
from linli.notify.models import Message
from linli.registry.models import Household
from linli.test import PASSWORD, BaseTestCase
from linli.wishes import actions
from linli.wishes.choices import WishStatus
from linli.wishes.models import Wish
from linli.workforce import actions as workforce
from linli.workforce.choices import VolunteerStatus
from linli.workforce.models import Task, TaskStop

pytestmark = pytest.mark.browser

VOLUNTEER_PHONE = "13700001111"
VOLUNTEER_PASSWORD = "lanterns and kites"


class WishJourneyTests(browser_testing.BrowserTestCase):
    viewport: ClassVar[dict[str, int]] = {"width": 375, "height": 812}
    carol: Any
    community: Any
    zhang: Any
    li: Any

    def setUp(self) -> None:
        with scopes_disabled():
            BaseTestCase.build_world.__func__(self)  # type: ignore[attr-defined]
            wishes = []
            for household_id, item in (
                (self.zhang.household_id, "围巾和手套"),
                (self.li.household_id, "书包"),
            ):
                wish = actions.wish_collect(
                    actor=self.carol,
                    data=actions.WishInput(
                        household=Household.objects.get(pk=household_id),
                        recipient="一位低保户老人",
                        item=item,
                        value_fen=8000,
                    ),
                )
                wishes.append(actions.wish_approve(actor=self.carol, wish=wish))
            self.batch = actions.batch_create(
                actor=self.carol,
                community=self.community,
                title="冬日微心愿",
                deliver_by=timezone.localdate() + dt.timedelta(days=7),
                per_claimer_limit=2,
                note="请送到阳光社区党群服务中心",
            )
            actions.batch_add(actor=self.carol, batch=self.batch, wishes=wishes)
            self.scarf = wishes[0]
            volunteer = workforce.volunteer_signup(
                community=self.community,
                data=workforce.SignupInput(
                    name="周志愿",
                    phone=VOLUNTEER_PHONE,
                    id_number=compose_id_number("110101", dt.date(1988, 4, 9), 321),
                    password=VOLUNTEER_PASSWORD,
                ),
            )
            workforce.volunteer_review(
                actor=self.carol, volunteer=volunteer, status=VolunteerStatus.VERIFIED
            )
        super().setUp()

    def screenshot(self, page: Page, name: str) -> None:
        page.screenshot(path=os.path.join(tempfile.gettempdir(), f"linli-{name}.png"))

    def fits_the_screen(self, page: Page) -> bool:
        fits: bool = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        return fits

    def staff_page(self) -> Page:
        staff = self.browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
        page = staff.new_page()
        page.goto(f"{self.live_server_url}/login/")
        page.fill("#id_username", "carol")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".who")).to_contain_text("carol")
        return page

    def test_it_publishes_claims_on_a_phone_and_delivers_to_the_door(self) -> None:
        staff = self.staff_page()
        staff.goto(f"{self.live_server_url}/wish-batches/{self.batch.pk}/")
        staff.locator("#publish").click()
        expect(staff.locator("#batch-status")).to_have_text("认领中")
        public_url = staff.locator("#public-url").inner_text()
        assert public_url.startswith(self.live_server_url + "/w/")

        # A party member opens the QR page on their phone (the same URL the code holds).
        phone = self.page
        phone.goto(public_url)
        card = phone.locator(f"#wish-{self.scarf.pk}")
        expect(card).to_contain_text("围巾和手套")
        expect(phone.locator("body")).not_to_contain_text("张建国")
        expect(phone.locator("body")).not_to_contain_text("阳光小区")
        assert self.fits_the_screen(phone)
        self.screenshot(phone, "wish-public")
        card.get_by_role("link", name="认领这个心愿").click()
        phone.fill("#id_name", "王建军")
        phone.fill("#id_phone", "13800001111")
        phone.fill("#id_work_unit", "区税务局")
        assert self.fits_the_screen(phone)
        phone.get_by_role("button", name="确认认领").click()
        expect(phone.locator("#claim-done")).to_contain_text("认领成功")
        expect(phone.locator("#my-deadline")).to_have_text(
            self.batch.deliver_by.strftime("%Y-%m-%d")
        )
        self.screenshot(phone, "wish-claimed")
        phone.goto(public_url)
        expect(phone.locator(f"#wish-{self.scarf.pk}")).to_contain_text("已由区税务局认领")

        # Staff send it to the door: a wish delivery on the task board.
        staff.goto(f"{self.live_server_url}/wishes/{self.scarf.pk}/")
        expect(staff.locator("#wish-status")).to_have_text("已认领")
        staff.locator("#step-door button").click()
        expect(staff.locator("#wish-task")).to_be_visible()
        with scopes_disabled():
            task = Task.objects.get(kind="wish_delivery")
            stop = TaskStop.objects.get(task=task)

        # A volunteer takes it on their phone and hands it over with the household's code.
        volunteer = self.browser.new_context(viewport=self.viewport, locale="zh-CN")  # type: ignore[arg-type]
        door = volunteer.new_page()
        door.goto(f"{self.live_server_url}/login/")
        door.fill("#id_username", VOLUNTEER_PHONE)
        door.fill("#id_password", VOLUNTEER_PASSWORD)
        door.click("button[type=submit]")
        door.goto(f"{self.live_server_url}/my/")
        door.locator(f"#open-task-{task.pk}").get_by_role("button", name="领取").click()
        door.get_by_role("button", name="出发").click()
        expect(door.locator("#task-status")).to_have_text("进行中")
        with scopes_disabled():
            told = Message.objects.get(kind="task.on_the_way")
        found = re.search(r"收货码 (\d{4})", told.body)
        assert found is not None
        row = door.locator(f"#stop-{stop.pk}")
        expect(row).to_contain_text("1号 围巾和手套×1")
        row.get_by_label("输入收货码").fill(found.group(1))
        row.get_by_role("button", name="确认送达").click()
        expect(door.locator("#task-status")).to_have_text("已完成")
        volunteer.close()

        staff.goto(f"{self.live_server_url}/wishes/{self.scarf.pk}/")
        expect(staff.locator("#wish-status")).to_have_text("已送达")
        staff.context.close()
        with scopes_disabled():
            wish = Wish.objects.get(pk=self.scarf.pk)
        assert wish.status == WishStatus.FULFILLED
        assert wish.claimer is not None
        assert wish.claimer.phone == "13800001111"
        assert wish.delivery_mode == "door"
