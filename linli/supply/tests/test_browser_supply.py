"""A supply round end to end on phones, in a real browser: a grid worker orders for an
elderly resident who lives alone (代下单), staff close the round, the supplier marks its
goods dispatched, the checkpoint keeper receives, disinfects and releases them, staff sort
them into a delivery task, a volunteer hands the bag over with the household's code, and
the resident, signed in by SMS code, reads 已送达.

Every step goes through the browser. The community's hold is 0 minutes so the release is
allowed at once (the hold itself is tested in test_handoff.py with time-machine)."""

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

from linli.checkpoints import actions as checkpoint_actions
from linli.checkpoints.choices import GoodsStatus
from linli.lib import browser_testing
from linli.lib.identity import compose_id_number
from linli.notify.models import Message
from linli.registry.models import Community, Gate
from linli.supply import actions
from linli.supply.choices import (
    Category,
    Channel,
    DeliveryStatus,
    Intake,
    RoundScope,
    RoundStatus,
    ShipmentStatus,
)
from linli.supply.models import Order, Package, Shipment, Supplier
from linli.test import PASSWORD, BaseTestCase
from linli.workforce import actions as workforce
from linli.workforce.choices import StopStatus, TaskStatus
from linli.workforce.models import Task, TaskStop

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
VOLUNTEER_PHONE = "13700002222"
VOLUNTEER_PASSWORD = "lanterns and kites"


class SupplyRoundJourneyTests(browser_testing.BrowserTestCase):
    viewport: ClassVar[dict[str, int]] = PHONE
    carol: Any
    alice: Any
    community: Any
    street: Any
    zhang: Any
    unit1: Any
    unit2: Any
    sam: Any
    kate: Any

    def setUp(self) -> None:
        with scopes_disabled():
            BaseTestCase.build_world.__func__(self)  # type: ignore[attr-defined]
            Community.objects.filter(pk=self.community.pk).update(goods_hold_minutes=0)
            self.supplier = Supplier.objects.create(
                street=self.street, name="惠民生鲜配送", kind="supplier"
            )
            self.supplier.accounts.add(self.sam)
            self.veg = Package.objects.create(
                supplier=self.supplier,
                name="蔬菜包",
                category=Category.VEGETABLES,
                net_weight_g=5000,
                price_fen=4800,
            )
            now = timezone.now()
            self.round = actions.round_create(
                actor=self.carol,
                street_id=self.street.pk,
                data=actions.RoundInput(
                    title="第一轮保供",
                    scope=RoundScope.COMMUNITY,
                    community_id=self.community.pk,
                    opens_at=now - dt.timedelta(hours=1),
                    closes_at=now + dt.timedelta(hours=5),
                    delivery_date=(now + dt.timedelta(days=1)).date(),
                    intake=Intake.FIRST_COME,
                ),
            )
            self.offer = actions.offer_add(
                actor=self.carol, round=self.round, package=self.veg, stock=20
            )
            actions.round_open(actor=self.carol, round=self.round)
            compound = self.unit1.building.compound
            self.checkpoint = checkpoint_actions.checkpoint_save(
                actor=self.carol,
                compound=compound,
                name="东门卡口",
                gates=[Gate.objects.create(compound=compound, name="东门")],
                buildings=[self.unit1.building, self.unit2.building],
                keepers=[self.kate],
            )
            volunteer = workforce.volunteer_signup(
                community=self.community,
                data=workforce.SignupInput(
                    name="周志愿",
                    phone=VOLUNTEER_PHONE,
                    id_number=compose_id_number("110101", dt.date(1988, 4, 9), 321),
                    password=VOLUNTEER_PASSWORD,
                ),
            )
            workforce.volunteer_review(actor=self.carol, volunteer=volunteer, status="verified")
        super().setUp()

    # --- helpers ------------------------------------------------------------------------

    def screenshot(self, page: Page, name: str) -> None:
        page.screenshot(path=os.path.join(tempfile.gettempdir(), f"linli-supply-{name}.png"))

    def fits_the_screen(self, page: Page) -> bool:
        fits: bool = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        return fits

    def phone_of(self, username: str, password: str = PASSWORD, shown_as: str = "") -> Page:
        """A fresh phone signed in as this user (each person has their own phone)."""
        context = self.browser.new_context(viewport=PHONE, locale="zh-CN")  # type: ignore[arg-type]
        self.addCleanup(context.close)
        page = context.new_page()
        page.goto(f"{self.live_server_url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        expect(page.locator(".who")).to_contain_text(shown_as or username)
        return page

    def order(self) -> Order:
        with scopes_disabled():
            return Order.objects.select_related("task_stop").get(round=self.round)

    # --- the journey --------------------------------------------------------------------

    def test_it_takes_an_elderly_households_proxy_order_to_the_door(self) -> None:
        base = self.live_server_url
        round_id = self.round.pk

        # 1. The grid worker finds 张建国 (82, lives alone, no smartphone) and orders for him.
        alice = self.phone_of("alice")
        alice.goto(f"{base}/rounds/{round_id}/proxy/")
        alice.fill("#id_q", "张建国")
        alice.get_by_role("button", name="查找").click()
        alice.get_by_role("link", name="阳光小区1号楼1单元101").click()
        alice.fill(f"#id_q_{self.offer.pk}", "1")
        assert self.fits_the_screen(alice)
        self.screenshot(alice, "proxy-order")
        alice.locator("form.order-form button[type=submit]").click()
        expect(alice.locator(".order-summary")).to_contain_text("蔬菜包")
        order = self.order()
        assert (order.channel, order.placed_by_id) == (Channel.PROXY, self.alice.pk)
        assert order.household_id == self.zhang.household_id
        assert order.delivery_status == DeliveryStatus.WAITING

        # 2. Community staff close the round (first come: allocated at once).
        carol = self.phone_of("carol")
        carol.on("dialog", lambda dialog: dialog.accept())
        carol.goto(f"{base}/rounds/{round_id}/")
        carol.get_by_role("button", name="截单").click()
        expect(carol.locator("#round-status")).to_have_text("已分配")
        self.round.refresh_from_db()
        assert self.round.status == RoundStatus.ALLOCATED

        # 3. The supplier marks its goods for the checkpoint dispatched.
        sam = self.phone_of("sam")
        sam.goto(f"{base}/rounds/{round_id}/handoff/supplier/")
        card = sam.locator(f"#supplier-cp-{self.checkpoint.pk}")
        expect(card).to_contain_text("1 户，共 1 件")
        expect(sam.locator("body")).not_to_contain_text("张建国")
        card.get_by_role("button", name="标记已发货").click()
        expect(sam.locator(f"#supplier-cp-{self.checkpoint.pk} .shipment-status")).to_contain_text(
            "已发货"
        )
        with scopes_disabled():
            shipment = Shipment.objects.get(round=self.round)
        assert (shipment.bags, shipment.dispatched_by_id) == (1, self.sam.pk)
        assert self.order().delivery_status == DeliveryStatus.DISPATCHED

        # 4. The keeper receives, disinfects and (the hold over) releases the goods.
        kate = self.phone_of("kate")
        kate.goto(f"{base}/rounds/{round_id}/handoff/")
        row = kate.locator(f"#shipment-{shipment.pk}")
        row.get_by_role("button", name="接收").click()
        expect(row.locator(".shipment-status")).to_contain_text("卡口已接收")
        assert self.order().delivery_status == DeliveryStatus.AT_CHECKPOINT
        row.get_by_role("button", name="已消杀").click()
        expect(row.locator(".shipment-status")).to_contain_text("静置已满，可放行")
        self.screenshot(kate, "keeper")
        row.get_by_role("button", name="放行").click()
        expect(row.locator(".shipment-status")).to_contain_text("已放行")
        expect(kate.locator("body")).not_to_contain_text("阳光小区1号楼1单元101")
        with scopes_disabled():
            shipment = Shipment.objects.select_related("goods").get(pk=shipment.pk)
        assert shipment.status == ShipmentStatus.RELEASED
        assert shipment.goods is not None
        assert shipment.goods.status == GoodsStatus.RELEASED
        assert shipment.goods.released_by_id == self.kate.pk
        assert self.order().delivery_status == DeliveryStatus.RELEASED

        # 5. Staff sort the goods to the building: a delivery task on the board.
        carol.goto(f"{base}/rounds/{round_id}/handoff/")
        carol.get_by_role("button", name="分拣到楼栋，生成送货任务").click()
        expect(carol.locator(f"#handoff-cp-{self.checkpoint.pk}")).to_contain_text(
            "已生成 1 个送货任务"
        )
        assert self.fits_the_screen(carol)
        with scopes_disabled():
            task = Task.objects.get()
        assert (task.place, task.size) == ("阳光小区1号楼", 1)
        assert self.order().delivery_status == DeliveryStatus.OUT_FOR_DELIVERY

        # 6. A volunteer takes it, sets off, and enters the code the household was sent.
        volunteer = self.phone_of(VOLUNTEER_PHONE, VOLUNTEER_PASSWORD, shown_as="周志愿")
        volunteer.goto(f"{base}/my/")
        volunteer.locator(f"#open-task-{task.pk}").get_by_role("button", name="领取").click()
        expect(volunteer.locator("#task-status")).to_have_text("已接受")
        volunteer.get_by_role("button", name="出发").click()
        expect(volunteer.locator("#task-status")).to_have_text("进行中")
        with scopes_disabled():
            told = Message.objects.get(kind="task.on_the_way")
            stop = TaskStop.objects.get(task=task)
        assert told.to_phone == self.zhang.phone
        assert "蔬菜包×1" in told.body
        found = re.search(r"收货码 (\d{4})", told.body)
        assert found is not None
        door = volunteer.locator(f"#stop-{stop.pk}")
        expect(door).to_contain_text("阳光小区1号楼1单元101")
        expect(volunteer.locator("body")).not_to_contain_text("张建国")
        door.get_by_label("输入收货码").fill(found.group(1))
        door.get_by_role("button", name="确认送达").click()
        expect(door.locator(".stop-status")).to_have_text("已送达（收货码）")
        with scopes_disabled():
            stop.refresh_from_db()
            task.refresh_from_db()
        assert stop.status == StopStatus.DELIVERED
        assert task.status == TaskStatus.DONE

        # 7. The resident signs in with an SMS code and sees 已送达: their page reads the
        #    door itself, before any staff page has looked.
        order = self.order()
        resident_context = self.browser.new_context(viewport=PHONE, locale="zh-CN")  # type: ignore[arg-type]
        self.addCleanup(resident_context.close)
        resident = resident_context.new_page()
        resident.goto(f"{base}/my/orders/")
        resident.fill("#id_phone", self.zhang.phone)
        resident.get_by_role("button", name="获取验证码").click()
        expect(resident.locator("#sms-sent")).to_be_visible()
        with scopes_disabled():
            sms = Message.objects.filter(kind="login.sms_code").latest("pk")
        code = re.search(r"验证码是 (\d{6})", sms.body)
        assert code is not None
        resident.fill("#id_code", code.group(1))
        resident.get_by_role("button", name="登录").click()
        status = resident.locator(f"#delivery-status-{order.pk}")
        expect(status).to_contain_text("已送达")
        assert self.fits_the_screen(resident)
        self.screenshot(resident, "resident-delivered")

        # 8. Staff see the door delivered and the round done.
        carol.goto(f"{base}/rounds/{round_id}/handoff/")
        expect(carol.locator(f"#progress-{self.checkpoint.pk} .n-delivered")).to_have_text("1")
        expect(carol.locator("#round-status")).to_have_text("已送达")
        order = self.order()
        assert order.delivery_status == DeliveryStatus.DELIVERED
        assert order.delivery_status_at is not None
