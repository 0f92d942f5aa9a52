"""团购登记表: a building's rooms × packages, on the page or as an uploaded file; each household's
order is its own transaction and the report names every row done or refused."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from linli.supply import actions
from linli.supply.actions import ItemInput
from linli.supply.choices import Channel, OrderStatus
from linli.supply.models import Offer, Order, SupplyRound
from linli.supply.tests.base import SupplyTestCase


class BulkSheetTest(SupplyTestCase):
    def sheet_url(self, round: SupplyRound, suffix: str = "") -> str:
        return f"/rounds/{round.pk}/bulk/{self.unit1.building_id}/{suffix}"

    def cell(self, attr: str, offer: Offer) -> str:
        return f"q_{self.home(attr).pk}_{offer.pk}"

    def orders(self) -> dict[int, tuple[str, str, list[tuple[str, int]]]]:
        with scopes_disabled():
            return {
                o.household_id: (
                    o.status,
                    o.channel,
                    sorted(o.items.values_list("offer__package__name", "quantity")),
                )
                for o in Order.objects.all()
            }

    def upload(self, round: SupplyRound, name: str, content: bytes) -> Any:
        return self.client.post(
            self.sheet_url(round, "upload/"),
            {"file": SimpleUploadedFile(name, content), "payment": "on_delivery"},
        )

    def test_it_places_each_row_and_reports_a_sold_out_row_without_undoing_the_others(
        self,
    ) -> None:
        round, veg, rice = self.open_round(stock=1)
        self.login(self.alice)
        page = self.client.get(self.sheet_url(round))
        self.assertContains(page, "1单元101")
        self.assertContains(page, "1单元102")
        response = self.client.post(
            self.sheet_url(round),
            {
                "payment": "on_delivery",
                self.cell("zhang", veg): "1",
                self.cell("zhang", rice): "",
                self.cell("zeng", veg): "1",
                self.cell("zeng", rice): "1",
            },
        )
        self.assertContains(response, "1单元102：蔬菜包 已售罄", status_code=400)
        self.assertContains(response, "1单元101：已下单：蔬菜包×1", status_code=400)
        self.assertEqual(
            self.orders(),
            {self.zhang.household_id: (OrderStatus.PLACED, Channel.BULK, [("蔬菜包", 1)])},
        )
        rice.refresh_from_db()
        self.assertEqual(rice.remaining, 1)  # 1单元102's rice went back with its row

    def test_it_changes_cancels_and_leaves_unchanged_rows_alone(self) -> None:
        round, veg, rice = self.open_round(stock=5)
        with scopes_disabled():
            for attr in ("zhang", "zeng"):
                actions.order_place(
                    actor=self.carol,
                    round=round,
                    household=self.home(attr),
                    items=[ItemInput(veg, 1)],
                )
        self.login(self.carol)
        page = self.client.get(self.sheet_url(round))
        self.assertContains(page, f'name="{self.cell("zhang", veg)}" value="1"')
        response = self.client.post(
            self.sheet_url(round),
            {
                "payment": "on_delivery",
                self.cell("zhang", veg): "1",
                self.cell("zhang", rice): "",
                self.cell("zeng", veg): "",
                self.cell("zeng", rice): "2",
            },
        )
        self.assertContains(response, "成功 1 户，失败 0 户")
        self.assertNotContains(response, "1单元101：")
        response = self.client.post(
            self.sheet_url(round),
            {"payment": "on_delivery", self.cell("zeng", veg): "", self.cell("zeng", rice): ""},
        )
        self.assertContains(response, "1单元102：已取消订单")
        orders = self.orders()
        self.assertEqual(orders[self.zhang.household_id][2], [("蔬菜包", 1)])
        self.assertEqual(orders[self.zeng.household_id][0], OrderStatus.CANCELLED)

    def test_it_reports_a_bad_cell_for_its_row_only(self) -> None:
        round, veg, rice = self.open_round(stock=5, limit=2)
        self.login(self.carol)
        response = self.client.post(
            self.sheet_url(round),
            {
                "payment": "on_delivery",
                self.cell("zhang", veg): "三",
                self.cell("zeng", veg): "3",
                self.cell("zeng", rice): "1",
            },
        )
        self.assertContains(response, "1单元101：蔬菜包 数量应为 0 到 99 的整数", status_code=400)
        self.assertContains(response, "1单元102：蔬菜包 超过每户限购 2 份", status_code=400)
        self.assertEqual(self.orders(), {})

    def test_it_takes_an_uploaded_csv_and_reports_unknown_rooms(self) -> None:
        round, _veg, _rice = self.open_round(stock=5)
        self.login(self.carol)
        csv = "房号,蔬菜包,米面油套餐\n1单元101,2,1\n1-102,,1\n1单元999,1,\n"
        response = self.upload(round, "登记表.csv", csv.encode("utf-8-sig"))
        self.assertContains(response, "1单元999：房号不在本楼", status_code=400)
        self.assertContains(response, "成功 2 户，失败 1 户", status_code=400)
        orders = self.orders()
        self.assertEqual(orders[self.zhang.household_id][2], [("米面油套餐", 1), ("蔬菜包", 2)])
        self.assertEqual(orders[self.zeng.household_id][1:], (Channel.BULK, [("米面油套餐", 1)]))

    def test_it_round_trips_the_xlsx_template(self) -> None:
        round, veg, _rice = self.open_round(stock=5)
        with scopes_disabled():
            actions.order_place(
                actor=self.carol,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1)],
            )
        self.login(self.carol)
        template = self.client.get(self.sheet_url(round, "template.xlsx"))
        self.assertEqual(template.status_code, 200)
        book = openpyxl.load_workbook(io.BytesIO(template.content))
        sheet = book.active
        assert sheet is not None
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        self.assertEqual(rows[0], ["房号", "米面油套餐", "蔬菜包"])
        self.assertEqual(rows[1], ["1单元101", None, 1])
        sheet.cell(row=3, column=3, value=2)  # 1单元102: 2 × 蔬菜包
        out = io.BytesIO()
        book.save(out)
        response = self.upload(round, "sheet.xlsx", out.getvalue())
        self.assertContains(response, "1单元102：已下单：蔬菜包×2")
        self.assertEqual(self.orders()[self.zeng.household_id][2], [("蔬菜包", 2)])
        self.assertEqual(self.orders()[self.zhang.household_id][2], [("蔬菜包", 1)])

    def test_it_refuses_a_file_it_cannot_use(self) -> None:
        round, _veg, _rice = self.open_round()
        self.login(self.carol)
        cases = [
            ("a.csv", "房号,猪肉包\n1单元101,1\n".encode(), "这些列不是本轮的套餐：猪肉包"),
            ("a.csv", "门牌,蔬菜包\n1单元101,1\n".encode(), "找不到“房号”列"),
            ("a.txt", b"x", "只支持 .xlsx 和 .csv 文件"),
            ("a.xlsx", b"not a zip", "不是有效的 .xlsx 文件"),
        ]
        for name, content, message in cases:
            with self.subTest(message):
                self.assertContains(self.upload(round, name, content), message, status_code=400)
        self.assertEqual(self.orders(), {})

    def test_it_keeps_to_the_users_area_and_the_rounds_scope(self) -> None:
        round, _veg, _rice = self.open_round()
        self.login(self.bob)  # grid 2: not 1号楼
        self.assertEqual(self.client.get(self.sheet_url(round)).status_code, 404)
        picker = self.client.get(f"/rounds/{round.pk}/bulk/")
        self.assertContains(picker, "2号楼")
        self.assertNotContains(picker, "1号楼")
        self.login(self.dave)  # the street admin: 星河湾 is outside this community's round
        url = f"/rounds/{round.pk}/bulk/{self.unit_b.building_id}/"
        self.assertEqual(self.client.get(url).status_code, 404)
        self.login(self.victor)
        self.assertEqual(self.client.get(self.sheet_url(round)).status_code, 403)
