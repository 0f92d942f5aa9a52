"""The wish pages: staff collect, approve, batch, publish and print; the public claim page
on a phone shows no personal data; claiming, the claimer's link, release; fulfilment
steps; figures and the Excel export; and who may see what."""

from __future__ import annotations

import io

import openpyxl
from django.core.cache import cache
from django.test import override_settings
from django_scopes import scopes_disabled

from linli.test import pdf_text
from linli.wishes.choices import BatchStatus, WishStatus
from linli.wishes.models import Claimer, Wish, WishBatch, WishClaim
from linli.wishes.tests.base import WishTestCase
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task

PERSONAL = ("张建国", "李秀英", "王芳", "阳光小区", "101", "13812348000", "独居老人", "高血压")


class StaffPageTests(WishTestCase):
    def test_it_collects_a_wish_for_a_household_picked_by_unit_and_room(self) -> None:
        self.login(self.alice)
        page = self.client.get(f"/wishes/new/?unit={self.unit1.pk}")
        self.assertContains(page, "101")
        response = self.client.post(
            "/wishes/new/",
            {
                "unit": self.unit1.pk,
                "household": self.zhang.household_id,
                "recipient": "一位独居老人",
                "item": "老花镜",
                "quantity": 1,
                "value": "45.5",
            },
        )
        with scopes_disabled():
            wish = Wish.objects.get(item="老花镜")
        self.assertRedirects(response, f"/wishes/{wish.pk}/")
        self.assertEqual(
            (wish.status, wish.value_fen, wish.created_by_id),
            (WishStatus.COLLECTED, 4550, self.alice.pk),
        )

    def test_it_refuses_a_household_outside_the_grid_workers_grid_with_a_400(self) -> None:
        self.login(self.alice)
        response = self.client.post(
            "/wishes/new/",
            {
                "household": self.li.household_id,
                "recipient": "一位老人",
                "item": "围巾",
                "quantity": 1,
            },
        )
        self.assertContains(response, "所选的户不存在，或不在您的管辖范围内", status_code=400)
        response = self.client.post(
            "/wishes/new/",
            {
                "household": self.zhang.household_id,
                "recipient": "张建国",
                "item": "围巾",
                "quantity": 1,
                "value": "abc",
            },
        )
        self.assertContains(response, "请填写金额（元）", status_code=400)
        with scopes_disabled():
            self.assertFalse(Wish.objects.filter(item="围巾").exists())

    def test_it_shows_a_grid_worker_only_their_grids_wishes(self) -> None:
        self.login(self.alice)
        listing = self.client.get("/wishes/")
        self.assertContains(listing, "围巾和手套")
        self.assertNotContains(listing, "书包")
        self.assertEqual(self.client.get(f"/wishes/{self.schoolbag.pk}/").status_code, 404)
        self.assertEqual(self.client.get(f"/wishes/{self.far_wish.pk}/").status_code, 404)
        # A grid worker may not approve.
        self.assertEqual(self.client.post(f"/wishes/{self.scarf.pk}/approve/").status_code, 403)

    def test_it_keeps_volunteers_suppliers_and_residents_off_staff_pages(self) -> None:
        for user in (self.victor, self.sam, self.rita_user, self.kate):
            self.login(user)
            for url in ("/wishes/", f"/wishes/{self.scarf.pk}/", f"/wish-batches/{self.batch.pk}/"):
                self.assertEqual(self.client.get(url).status_code, 403, (user, url))

    def test_it_builds_publishes_and_prints_a_batch(self) -> None:
        self.login(self.carol)
        with scopes_disabled():
            wish = self.collect(self.zhang.household_id, "护膝")
        self.client.post(f"/wishes/{wish.pk}/approve/")
        response = self.client.post(
            "/wish-batches/new/",
            {
                "title": "春节微心愿",
                "deliver_by": self.batch.deliver_by.isoformat(),
                "per_claimer_limit": 3,
            },
        )
        with scopes_disabled():
            batch = WishBatch.objects.get(title="春节微心愿")
        self.assertRedirects(response, f"/wish-batches/{batch.pk}/")
        self.client.post(f"/wish-batches/{batch.pk}/add/", {"wishes": [wish.pk]})
        self.client.post(f"/wish-batches/{batch.pk}/publish/")
        with scopes_disabled():
            batch.refresh_from_db()
            wish.refresh_from_db()
        self.assertEqual(batch.status, BatchStatus.PUBLISHED)
        self.assertEqual((wish.status, wish.number), (WishStatus.PUBLISHED, 1))
        detail = self.client.get(f"/wish-batches/{batch.pk}/")
        self.assertContains(detail, f"/w/{batch.code}/")
        self.assertContains(detail, "<svg")
        poster = self.client.get(f"/wish-batches/{batch.pk}/poster.pdf")
        self.assertEqual(poster["Content-Type"], "application/pdf")
        text = pdf_text(poster.content)
        self.assertIn("春节微心愿", text)
        self.assertIn("护膝", text)
        self.assertNotIn("张建国", text)

    def test_it_refuses_publishing_twice_with_a_400_naming_why(self) -> None:
        self.login(self.carol)
        response = self.client.post(f"/wish-batches/{self.batch.pk}/publish/")
        self.assertContains(response, "批次已发布过", status_code=400)
        response = self.client.post(f"/wish-batches/{self.draft.pk}/publish/")
        self.assertContains(response, "批次里还没有心愿", status_code=400)

    def test_it_takes_the_steps_receive_door_thank_release_withdraw(self) -> None:
        self.claim(self.scarf)
        self.claim(self.schoolbag, phone="13900002222")
        self.claim(self.blanket, phone="13900003333")
        self.login(self.carol)
        self.client.post(f"/wishes/{self.scarf.pk}/receive/", {"receive-note": "已放服务中心"})
        self.assertEqual(self.wish(self.scarf).status, WishStatus.FULFILLED)
        self.client.post(f"/wishes/{self.scarf.pk}/thank/", {"thanks-thanks": "谢谢！"})
        self.assertEqual(self.wish(self.scarf).status, WishStatus.THANKED)
        self.client.post(f"/wishes/{self.schoolbag.pk}/door/", {"door-description": ""})
        with scopes_disabled():
            task = Task.objects.get(kind=TaskKind.WISH_DELIVERY)
        self.assertEqual(self.wish(self.schoolbag).task_stop.task_id, task.pk)  # type: ignore[union-attr]
        page = self.client.get(f"/wishes/{self.schoolbag.pk}/")
        self.assertContains(page, f"/tasks/{task.pk}/")
        response = self.client.post(f"/wishes/{self.blanket.pk}/release/", {"release-reason": ""})
        self.assertContains(response, "请填写退回原因", status_code=400)
        self.client.post(f"/wishes/{self.blanket.pk}/release/", {"release-reason": "联系不上"})
        self.assertEqual(self.wish(self.blanket).status, WishStatus.PUBLISHED)
        self.client.post(f"/wishes/{self.blanket.pk}/withdraw/", {"withdraw-reason": "已有人捐赠"})
        self.assertEqual(self.wish(self.blanket).status, WishStatus.WITHDRAWN)
        self.assertEqual(self.client.post(f"/wishes/{self.blanket.pk}/nope/").status_code, 404)

    def test_it_reveals_a_claimers_phone_only_with_a_reason_and_audits_it(self) -> None:
        from auditlog.models import LogEntry

        self.claim(self.scarf)
        with scopes_disabled():
            claimer = Claimer.objects.get()
        self.login(self.carol)
        page = self.client.get(f"/wish-batches/{self.batch.pk}/")
        self.assertContains(page, "138****1111")
        self.assertNotContains(page, "13800001111")
        self.assertEqual(
            self.client.post(f"/wish-claimers/{claimer.pk}/reveal/", {"reason": ""}).status_code,
            400,
        )
        response = self.client.post(f"/wish-claimers/{claimer.pk}/reveal/", {"reason": "联系送达"})
        self.assertContains(response, "13800001111")
        self.assertTrue(
            LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=self.carol).exists()
        )
        self.login(self.alice)
        self.assertEqual(
            self.client.post(
                f"/wish-claimers/{claimer.pk}/reveal/", {"reason": "x看看"}
            ).status_code,
            403,
        )

    def test_it_shows_figures_and_exports_them_to_excel(self) -> None:
        self.claim(self.scarf)
        self.claim(self.diapers)
        self.claim(self.schoolbag, phone="13900002222", name="陈志明")
        self.login(self.carol)
        page = self.client.get("/wishes/figures/")
        self.assertContains(page, "区税务局")
        self.assertContains(page, '<tr id="status-claimed"><td>已认领</td><td>3</td>', html=False)
        export = self.client.get("/wishes/figures/export.xlsx")
        book = openpyxl.load_workbook(io.BytesIO(export.content))
        self.assertEqual(book.sheetnames, ["按状态", "认领用时", "按工作单位"])
        units = list(book["按工作单位"].iter_rows(min_row=3, values_only=True))
        self.assertEqual(units, [("区税务局", 2, 3, 0)])
        self.assertEqual(self.client.get("/wishes/figures/?batch=nope").status_code, 400)


class PublicPageTests(WishTestCase):
    def test_it_shows_the_batch_to_anyone_without_personal_data(self) -> None:
        self.claim(self.scarf)
        page = self.client.get(f"/w/{self.batch.code}/")
        self.assertContains(page, "围巾和手套")
        self.assertContains(page, "一名小学生")
        self.assertContains(page, "已由区税务局认领")
        for text in (*PERSONAL, "王建军", "13800001111"):
            self.assertNotContains(page, text)
        self.assertEqual(self.client.get(f"/w/{self.draft.code}/").status_code, 404)
        self.assertEqual(self.client.get("/w/nothing/").status_code, 404)

    def test_it_claims_from_the_public_form_and_opens_the_claimers_page(self) -> None:
        response = self.client.post(
            f"/w/{self.batch.code}/{self.blanket.pk}/",
            {
                "name": "陈志明",
                "phone": "139 0000 2222",
                "work_unit": "市第三中学",
                "kind": "party_member",
            },
        )
        with scopes_disabled():
            claim = WishClaim.objects.get()
        self.assertEqual(response.status_code, 302)
        page = self.client.get(response["Location"])
        self.assertContains(page, "认领成功")
        self.assertContains(page, self.batch.deliver_by.strftime("%Y-%m-%d"))
        self.assertContains(page, "陈**")
        self.assertEqual(claim.claimer.phone, "13900002222")
        # Taken now: the next one is told so, with a 400 and nothing written.
        again = self.client.post(
            f"/w/{self.batch.code}/{self.blanket.pk}/",
            {"name": "赵强", "phone": "13900003333", "work_unit": "燃气公司", "kind": "volunteer"},
        )
        self.assertEqual(again.status_code, 400)
        self.assertContains(again, "这个心愿已被认领", status_code=400)
        with scopes_disabled():
            self.assertEqual(Claimer.objects.count(), 1)
        # Released through the link: open again.
        self.client.post(response["Location"] + "release/", {"reason": "临时出差"})
        self.assertEqual(self.wish(self.blanket).status, WishStatus.PUBLISHED)
        self.assertContains(self.client.get(response["Location"]), "已退回")

    def test_it_answers_bad_claims_with_chinese_errors_naming_the_field(self) -> None:
        response = self.client.post(
            f"/w/{self.batch.code}/{self.scarf.pk}/",
            {"name": "赵强", "phone": "12345", "work_unit": "燃气公司", "kind": "volunteer"},
        )
        self.assertContains(response, "手机号应为1开头的11位数字", status_code=400)
        response = self.client.post(
            f"/w/{self.batch.code}/{self.scarf.pk}/",
            {"name": "", "phone": "13900003333", "work_unit": "", "kind": "boss"},
        )
        self.assertContains(response, "id_name_errors", status_code=400)
        self.assertContains(response, "id_kind_errors", status_code=400)
        with scopes_disabled():
            self.assertFalse(WishClaim.objects.exists())
        self.assertEqual(
            self.client.get(f"/w/{self.batch.code}/{self.far_wish.pk}/").status_code, 404
        )
        self.assertEqual(self.client.get("/w/claims/made-up-token/").status_code, 404)

    @override_settings(LINLI_WISH_CLAIM_RATE="2/m")
    def test_it_rate_limits_claims_from_one_address(self) -> None:
        cache.clear()
        data = {"name": "赵强", "phone": "1", "work_unit": "x", "kind": "volunteer"}
        codes = [
            self.client.post(f"/w/{self.batch.code}/{self.scarf.pk}/", data).status_code
            for _ in range(3)
        ]
        cache.clear()
        self.assertEqual(codes, [400, 400, 429])
