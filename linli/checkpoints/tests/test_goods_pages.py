"""Goods pages: receive, disinfect, the hold that refuses an early release, the held list."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from linli.checkpoints import actions
from linli.checkpoints.choices import GoodsStatus
from linli.checkpoints.models import Checkpoint, GoodsReceipt
from linli.checkpoints.tests.test_pages import CheckpointPageTestCase, build_checkpoints
from linli.lib import browser_testing
from linli.test import PASSWORD, BaseTestCase

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)
HTMX = {"HX-Request": "true"}


class GoodsPageTest(CheckpointPageTestCase):
    def _goods(self, pk: int) -> GoodsReceipt:
        with scopes_disabled():
            return GoodsReceipt.objects.get(pk=pk)

    def _receive(self, checkpoint_pk: int | None = None, **values: object) -> GoodsReceipt:
        with scopes_disabled():
            checkpoint = self.west if checkpoint_pk == self.west.pk else self.east
            return actions.goods_receive(
                actor=self.carol,
                checkpoint=checkpoint,
                sender=str(values.get("sender", "联华超市")),
                count=int(str(values.get("count", 40))),
            )

    def test_it_receives_goods_through_the_page(self) -> None:
        self.login(self.kate)
        with time_machine.travel(NOON, tick=False):
            response = self.client.post(
                f"/checkpoints/{self.east.pk}/goods/",
                {
                    "sender": "联华超市",
                    "count": "40",
                    "description": "蔬菜包",
                    "buildings": [self.unit1.building.pk],
                },
            )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            goods = GoodsReceipt.objects.get()
            self.assertEqual(
                (goods.sender, goods.count, goods.status), ("联华超市", 40, "received")
            )
            self.assertEqual(list(goods.buildings.all()), [self.unit1.building])
            self.assertEqual(goods.received_by, self.kate)
            self.assertEqual(goods.received_at, NOON)

    def test_it_refuses_goods_without_sender_or_count(self) -> None:
        self.login(self.kate)
        for values in (
            {"sender": "", "count": "3"},
            {"sender": "x", "count": "0"},
            {"sender": "x", "count": "几箱"},
        ):
            response = self.client.post(f"/checkpoints/{self.east.pk}/goods/", values)
            self.assertEqual(response.status_code, 400, values)
            self.assertContains(response, 'class="errorlist"', status_code=400)
        with scopes_disabled():
            self.assertFalse(GoodsReceipt.objects.exists())

    def test_it_disinfects_and_holds_for_the_community_hold_time(self) -> None:
        goods = self._receive()
        self.login(self.kate)
        with time_machine.travel(NOON, tick=False):
            response = self.client.post(f"/goods/{goods.pk}/disinfect/")
            self.assertEqual(response.status_code, 302)
            goods = self._goods(goods.pk)
            self.assertEqual(goods.status, GoodsStatus.DISINFECTED)
            self.assertEqual(goods.hold_until, NOON + dt.timedelta(minutes=120))
            self.assertEqual(goods.disinfected_by, self.kate)
            response = self.client.get(f"/checkpoints/{self.east.pk}/goods/")
            self.assertContains(response, '<strong class="minutes-left">120</strong>', html=True)
            self.assertContains(response, "disabled")

    def test_it_refuses_release_before_the_hold_ends_and_allows_it_after(self) -> None:
        goods = self._receive()
        with time_machine.travel(NOON, tick=False) as traveller:
            with scopes_disabled():
                actions.goods_disinfect(actor=self.kate, goods=goods)
            self.login(self.kate)
            traveller.shift(dt.timedelta(minutes=90))
            response = self.client.post(f"/goods/{goods.pk}/release/")
            self.assertEqual(response.status_code, 400)
            self.assertContains(
                response, "静置未满：还需 30 分钟（14:00 后可放行）", status_code=400
            )
            goods = self._goods(goods.pk)
            self.assertEqual(goods.status, GoodsStatus.DISINFECTED)
            self.assertIsNone(goods.released_at)

            response = self.client.post(f"/goods/{goods.pk}/release/", headers=HTMX)
            self.assertEqual(response.status_code, 400)
            self.assertTemplateUsed(response, "checkpoints/partials/goods_row.html")
            self.assertContains(response, "还需 30 分钟", status_code=400)
            self.assertNotContains(response, "<html", status_code=400)
            self.assertEqual(self._goods(goods.pk).status, GoodsStatus.DISINFECTED)

            traveller.shift(dt.timedelta(minutes=30, seconds=1))
            self.client.logout()  # idle for over 30 minutes: a fresh sign-in
            self.login(self.kate)
            response = self.client.post(f"/goods/{goods.pk}/release/", headers=HTMX)
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, "已放行")
            goods = self._goods(goods.pk)
            self.assertEqual(goods.status, GoodsStatus.RELEASED)
            self.assertEqual(goods.released_by, self.kate)
            self.assertEqual(goods.released_at, NOON + dt.timedelta(minutes=120, seconds=1))

    def test_it_refuses_release_of_goods_not_yet_disinfected(self) -> None:
        goods = self._receive()
        self.login(self.kate)
        response = self.client.post(f"/goods/{goods.pk}/release/")
        self.assertContains(response, "物资尚未消杀，不能放行", status_code=400)
        self.assertEqual(self._goods(goods.pk).status, GoodsStatus.RECEIVED)

    def test_it_swaps_the_row_in_place_for_htmx(self) -> None:
        goods = self._receive()
        self.login(self.kate)
        with time_machine.travel(NOON, tick=False):
            response = self.client.post(f"/goods/{goods.pk}/disinfect/", headers=HTMX)
        self.assertEqual(response.status_code, 200)
        self.assertTemplateUsed(response, "checkpoints/partials/goods_row.html")
        self.assertContains(response, f'id="goods-{goods.pk}"')
        self.assertContains(response, "14:00 后可放行")
        self.assertEqual(self._goods(goods.pk).status, GoodsStatus.DISINFECTED)

    def test_it_goes_back_to_the_held_page_after_releasing_from_it(self) -> None:
        goods = self._receive()
        with time_machine.travel(NOON, tick=False) as traveller:
            with scopes_disabled():
                actions.goods_disinfect(actor=self.kate, goods=goods)
            traveller.shift(dt.timedelta(hours=3))
            self.login(self.kate)
            response = self.client.post(f"/goods/{goods.pk}/release/", {"next": "/goods/held/"})
            self.assertEqual(response.status_code, 302)
            self.assertEqual(response["Location"], "/goods/held/")
            response = self.client.post(
                f"/goods/{goods.pk}/release/", {"next": "https://evil.example/"}
            )
            self.assertContains(response, "这批物资已放行", status_code=400)
        self.assertEqual(self._goods(goods.pk).status, GoodsStatus.RELEASED)

    def test_it_keeps_viewers_and_other_keepers_off_the_buttons(self) -> None:
        goods = self._receive()
        west_goods = self._receive(self.west.pk)
        self.login(self.alice)
        self.assertEqual(self.client.post(f"/goods/{goods.pk}/disinfect/").status_code, 403)
        self.login(self.kate)
        self.assertEqual(self.client.post(f"/goods/{west_goods.pk}/disinfect/").status_code, 404)
        for user in (self.victor, self.sam, self.oscar):
            self.login(user)
            self.assertEqual(self.client.post(f"/goods/{goods.pk}/disinfect/").status_code, 403)
        self.assertEqual(self._goods(goods.pk).status, GoodsStatus.RECEIVED)
        self.assertEqual(self._goods(west_goods.pk).status, GoodsStatus.RECEIVED)


class HeldPageTest(CheckpointPageTestCase):
    def test_it_lists_held_goods_soonest_first_with_minutes_left(self) -> None:
        with time_machine.travel(NOON, tick=False) as traveller, scopes_disabled():
            first = actions.goods_receive(
                actor=self.kate, checkpoint=self.east, sender="第一批", count=10
            )
            second = actions.goods_receive(
                actor=self.kate, checkpoint=self.east, sender="第二批", count=20
            )
            waiting = actions.goods_receive(
                actor=self.kate, checkpoint=self.east, sender="待消杀批", count=5
            )
            actions.goods_disinfect(actor=self.kate, goods=second)
            traveller.shift(dt.timedelta(minutes=30))
            actions.goods_disinfect(actor=self.kate, goods=first)
            traveller.shift(dt.timedelta(minutes=45, seconds=20))
        self.login(self.kate)
        # 12:00 + 75m20s: second held until 14:00 (44m40s → 45), first until 14:30 (75).
        with time_machine.travel(NOON + dt.timedelta(minutes=75, seconds=20), tick=False):
            response = self.client.get("/goods/held/")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('hx-trigger="every 60s"', html)
        self.assertLess(html.index("第二批"), html.index("第一批"))
        self.assertLess(html.index("第一批"), html.index("待消杀批"))
        self.assertContains(response, "45 分钟")
        self.assertContains(response, "75 分钟")
        self.assertContains(response, "待消杀")
        self.assertIn(f'id="held-{waiting.pk}"', html)

        with time_machine.travel(NOON + dt.timedelta(minutes=121), tick=False):
            self.client.logout()  # idle for over 30 minutes: a fresh sign-in
            self.login(self.kate)
            response = self.client.get("/goods/held/", headers=HTMX)
        self.assertTemplateUsed(response, "checkpoints/partials/held_rows.html")
        self.assertNotContains(response, "<html")
        self.assertContains(response, "可放行")
        self.assertContains(response, "29 分钟")
        self.assertContains(response, f'action="/goods/{second.pk}/release/"')
        self.assertNotContains(response, f'action="/goods/{first.pk}/release/"')

    def test_it_shows_a_keeper_only_her_checkpoints_goods(self) -> None:
        with scopes_disabled():
            actions.goods_receive(actor=self.carol, checkpoint=self.east, sender="东边货", count=1)
            actions.goods_receive(actor=self.carol, checkpoint=self.west, sender="西边货", count=1)
        self.login(self.kate)
        response = self.client.get("/goods/held/")
        self.assertContains(response, "东边货")
        self.assertNotContains(response, "西边货")
        self.login(self.carol)
        response = self.client.get("/goods/held/")
        self.assertContains(response, "东边货")
        self.assertContains(response, "西边货")

    def test_it_leaves_out_released_goods(self) -> None:
        with time_machine.travel(NOON, tick=False) as traveller, scopes_disabled():
            goods = actions.goods_receive(
                actor=self.carol, checkpoint=self.east, sender="已放行的货", count=1
            )
            actions.goods_disinfect(actor=self.carol, goods=goods)
            traveller.shift(dt.timedelta(hours=2))
            actions.goods_release(actor=self.carol, goods=goods)
        self.login(self.carol)
        response = self.client.get("/goods/held/")
        self.assertNotContains(response, "已放行的货")
        self.assertContains(response, "没有静置中的物资")


@pytest.mark.browser
class GoodsBrowserTest(browser_testing.BrowserTestCase):
    """Kate at the gate on her phone: rows change in place, and an early release is refused
    even when the disabled button is forced."""

    def setUp(self) -> None:
        with scopes_disabled():
            BaseTestCase.build_world.__func__(self)  # type: ignore[attr-defined]
            build_checkpoints(self)
        super().setUp()

    def test_it_receives_disinfects_and_refuses_an_early_release_in_place(self) -> None:
        page = self.page
        self.log_in("kate", PASSWORD)
        east: Checkpoint = self.east  # type: ignore[attr-defined]
        page.goto(f"{self.live_server_url}/checkpoints/{east.pk}/goods/")
        page.fill("#id_sender", "联华超市")
        page.fill("#id_count", "40")
        page.click(".goods-form button[type=submit]")
        row = page.locator("tr.goods-row").first
        expect(row).to_contain_text("已接收")

        row.locator("button", has_text="已消杀").click()
        expect(row).to_contain_text("还需")
        release = row.locator("button", has_text="放行")
        expect(release).to_be_disabled()
        with scopes_disabled():
            goods = GoodsReceipt.objects.get()
            self.assertEqual(goods.status, GoodsStatus.DISINFECTED)

        release.evaluate("button => button.removeAttribute('disabled')")
        release.click()
        expect(page.locator(f"#goods-{goods.pk} .errorlist")).to_contain_text("静置未满")
        with scopes_disabled():
            self.assertEqual(GoodsReceipt.objects.get().status, GoodsStatus.DISINFECTED)

        page.goto(f"{self.live_server_url}/goods/held/")
        expect(page.locator("#held")).to_contain_text("联华超市 × 40")
        expect(page.locator("#held")).to_contain_text("120 分钟")
