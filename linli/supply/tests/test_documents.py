"""Paperwork at close: pick lists, manifests and door labels as pages, Excel and PDF, who
sees which, and a large document made in the background."""

from __future__ import annotations

import io
from pathlib import Path
from tempfile import TemporaryDirectory

import openpyxl
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints.models import Checkpoint
from linli.supply import actions, documents
from linli.supply.choices import Category, Intake, RoundStatus
from linli.supply.documents import UNASSIGNED
from linli.supply.models import Offer, OrderItem, Package, RoundDocument, Supplier, SupplyRound
from linli.supply.tests.base import SupplyTestCase, make_package, make_supplier
from linli.test import make_user, pdf_text


class DocumentsTestCase(SupplyTestCase):
    """阳光社区's round: 东门 serves 1号楼 and 2号楼; 3号楼 is served by no checkpoint. Kate
    keeps 东门; sam supplies 惠民生鲜配送 (蔬菜包, 米面油套餐); 鲜蛋坊 (鸡蛋) is another
    supplier with its own account."""

    egg_supplier: Supplier
    eggs: Package
    egg_user: User
    gate: Checkpoint
    north: Checkpoint
    other_keeper: User
    veg_offer: Offer
    rice_offer: Offer
    egg_offer: Offer

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.supplier.accounts.add(cls.sam)
            cls.egg_supplier = make_supplier(cls.street.pk, "鲜蛋坊")
            cls.eggs = make_package(cls.egg_supplier, "=鸡蛋礼盒", Category.EGGS, 1500, 2500)
            cls.egg_user = make_user("egg", Role.SUPPLIER)
            cls.egg_supplier.accounts.add(cls.egg_user)
            compound = cls.unit1.building.compound
            cls.gate = Checkpoint.objects.create(
                community=cls.community, compound=compound, name="东门"
            )
            cls.gate.buildings.add(cls.unit1.building, cls.unit2.building)
            cls.gate.keepers.add(cls.kate)
            cls.north = Checkpoint.objects.create(
                community=cls.community, compound=compound, name="北门"
            )
            cls.other_keeper = make_user("kim", Role.CHECKPOINT_KEEPER, community=cls.community)
            cls.north.keepers.add(cls.other_keeper)

    def closed_round(self, intake: str = Intake.FIRST_COME, stock: int = 10) -> SupplyRound:
        round, veg, rice = self.open_round(intake=intake, stock=stock)
        with scopes_disabled():
            eggs = actions.offer_add(actor=self.carol, round=round, package=self.eggs, stock=stock)
            orders = [
                ("zhang", [(veg, 2), (rice, 1)]),
                ("zeng", [(veg, 1), (eggs, 1)]),
                ("li", [(rice, 2)]),
                ("wang", [(veg, 1)]),
            ]
            for who, items in orders:
                actions.order_place(
                    actor=self.alice,
                    round=round,
                    household=self.home(who),
                    items=[actions.ItemInput(offer, n) for offer, n in items],
                )
            actions.round_close(actor=self.carol, round=round)
            round.refresh_from_db()
        self.veg_offer, self.rice_offer, self.egg_offer = veg, rice, eggs
        return round

    def url(self, round: SupplyRound, kind: str, key: object, fmt: str = "") -> str:
        suffix = f".{fmt}" if fmt else "/"
        return f"/rounds/{round.pk}/documents/{kind}/{key}{suffix}"


class BuildersTest(DocumentsTestCase):
    def test_it_totals_a_pick_list_as_the_sum_of_allocated_items(self) -> None:
        round = self.closed_round()
        with scopes_disabled():
            rows = documents.load_rows(round)
            picks = documents.pick_lists(rows, documents.checkpoint_names(round))
            items = OrderItem.objects.filter(
                order__round=round, offer__package__supplier=self.supplier
            )
            count = sum(i.allocated or 0 for i in items)
            grams = sum((i.allocated or 0) * i.net_weight_g for i in items)
            fen = sum((i.allocated or 0) * i.price_fen for i in items)
        pick = picks[self.supplier.pk]
        self.assertEqual(
            (pick.totals.count, pick.totals.grams, pick.totals.fen), (count, grams, fen)
        )
        self.assertEqual(count, 7)  # 蔬菜包 2+1+1, 米面油 1+2
        self.assertEqual(
            sum(s.totals.count for s in pick.sections), sum(p.count for p in pick.packages)
        )
        names = [s.name for s in pick.sections]
        self.assertEqual(names, ["阳光小区东门", "未分配卡口"])
        gate = pick.sections[0]
        self.assertEqual(gate.households, 3)
        self.assertEqual(
            {line.name: line.count for line in gate.lines}, {"米面油套餐": 3, "蔬菜包": 3}
        )
        self.assertEqual(picks[self.egg_supplier.pk].totals.count, 1)

    def test_it_skips_what_a_fair_allocation_gave_nothing(self) -> None:
        round = self.closed_round(intake=Intake.FAIR, stock=2)
        with scopes_disabled():
            given = sum(
                i.allocated or 0
                for i in OrderItem.objects.filter(order__round=round, offer=self.veg_offer)
            )
            pick = documents.build(round, "pick_list", str(self.supplier.pk)).pick_list
        assert pick is not None
        self.assertEqual(given, 2)
        veg = next(p for p in pick.packages if p.name == "蔬菜包")
        self.assertEqual(veg.count, 2)

    def test_it_groups_a_manifest_by_building_and_unit_and_lists_the_unassigned(self) -> None:
        round = self.closed_round()
        with scopes_disabled():
            by_key = documents.manifests(
                documents.load_rows(round), documents.checkpoint_names(round)
            )
        self.assertEqual(list(by_key), [str(self.gate.pk), UNASSIGNED])
        gate = by_key[str(self.gate.pk)]
        self.assertEqual([b.name for b in gate.buildings], ["阳光小区1号楼", "阳光小区2号楼"])
        first = gate.buildings[0]
        self.assertEqual((first.households, first.bags), (2, 5))
        self.assertEqual([u.name for u in first.units], ["1单元"])
        self.assertEqual([d.room for d in first.units[0].doors], ["101", "102"])
        self.assertEqual(first.units[0].doors[1].items_text, "蔬菜包×1、=鸡蛋礼盒×1")
        unassigned = by_key[UNASSIGNED]
        self.assertEqual(unassigned.name, "未分配卡口")
        self.assertEqual(
            [d.address for b in unassigned.buildings for u in b.units for d in u.doors],
            ["阳光小区3号楼1单元301"],
        )
        self.assertEqual((gate.households, unassigned.households), (3, 1))

    def test_it_gives_one_label_per_order_with_its_pickup_code(self) -> None:
        round = self.closed_round()
        with scopes_disabled():
            labels = documents.build(round, "labels", str(self.supplier.pk)).labels
            codes = dict(
                round.orders.filter(household__unit__building=self.unit1.building).values_list(
                    "household__room", "pickup_code"
                )
            )
        self.assertEqual(len(labels), 4)
        self.assertEqual(labels[0].address, "阳光小区1号楼1单元101")
        self.assertEqual(labels[0].pickup_code, codes["101"])
        # The supplier's labels carry only its own items.
        self.assertEqual(labels[1].items_text, "蔬菜包×1")


class FilesTest(DocumentsTestCase):
    def test_it_renders_the_pick_list_pdf_with_chinese_text(self) -> None:
        round = self.closed_round()
        self.login(self.sam)
        r = self.client.get(self.url(round, "pick_list", self.supplier.pk, "pdf"))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["Content-Type"], "application/pdf")
        text = pdf_text(r.content).replace(" ", "")
        for words in (
            "惠民生鲜配送拣货单",
            "阳光小区东门",
            "未分配卡口",
            "蔬菜包",
            "米面油套餐",
            "第1页/共1页",
        ):
            self.assertIn(words, text)
        self.assertNotIn("鸡蛋", text)

    def test_it_renders_the_manifest_pdf_with_addresses_codes_and_page_totals(self) -> None:
        round = self.closed_round()
        with scopes_disabled():
            code = round.orders.get(household=self.home("zhang")).pickup_code
        self.login(self.kate)
        r = self.client.get(self.url(round, "manifest", self.gate.pk, "pdf"))
        self.assertEqual(r.status_code, 200)
        text = pdf_text(r.content).replace(" ", "")
        for words in ("阳光小区1号楼1单元101", "阳光小区2号楼1单元201", "蔬菜包×2", code, "签收"):
            self.assertIn(words, text)
        self.assertIn("本页小计：3户", text)
        self.assertNotIn("张建国", text)  # no names, phones or care tags
        self.assertNotIn("独居", text)

    def test_it_renders_label_sheets_with_a_qr_code_per_door(self) -> None:
        round = self.closed_round()
        self.login(self.carol)
        r = self.client.get(self.url(round, "labels", self.supplier.pk, "pdf"))
        self.assertEqual(r.status_code, 200)
        text = pdf_text(r.content).replace(" ", "")
        self.assertIn("阳光小区3号楼1单元301", text)
        self.assertIn("取货码", text)
        page = self.client.get(self.url(round, "labels", self.supplier.pk))
        self.assertContains(page, "<svg", count=4)
        with scopes_disabled():
            order = round.orders.get(household=self.home("wang"))
        self.assertContains(page, order.pickup_code)

    def test_it_exports_excel_with_formulas_escaped(self) -> None:
        round = self.closed_round()
        self.login(self.carol)
        r = self.client.get(self.url(round, "manifest", self.gate.pk, "xlsx"))
        self.assertEqual(r.status_code, 200)
        sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        self.assertEqual(
            rows[1][:8], ["楼栋", "单元", "房号", "地址", "物品", "件数", "取货码", "签收"]
        )
        zeng = next(row for row in rows if row[3] == "阳光小区1号楼1单元102")
        self.assertEqual(zeng[4], "蔬菜包×1、=鸡蛋礼盒×1")  # not at the start: left alone
        self.assertEqual(rows[-1][5], 7)  # 3 + 2 + 2 bags; 3号楼 is not 东门's
        egg = self.client.get(self.url(round, "pick_list", self.egg_supplier.pk, "xlsx"))
        values = [
            c
            for row in openpyxl.load_workbook(io.BytesIO(egg.content)).active.iter_rows(
                values_only=True
            )
            for c in row
        ]
        self.assertIn("'=鸡蛋礼盒", values)
        self.assertNotIn("=鸡蛋礼盒", values)

    def test_it_shows_the_pick_list_as_a_printable_page(self) -> None:
        round = self.closed_round()
        self.login(self.dave)
        r = self.client.get(self.url(round, "pick_list", self.supplier.pk))
        self.assertContains(r, "惠民生鲜配送 拣货单")
        self.assertContains(r, "@media print")
        self.assertContains(r, "¥")
        listing = self.client.get(f"/rounds/{round.pk}/documents/")
        self.assertContains(listing, "未分配卡口")
        self.assertContains(listing, "鲜蛋坊")


class AccessTest(DocumentsTestCase):
    def test_it_shows_a_supplier_only_its_own_pick_list_and_labels(self) -> None:
        round = self.closed_round()
        self.login(self.sam)
        self.assertEqual(
            self.client.get(self.url(round, "pick_list", self.supplier.pk)).status_code, 200
        )
        self.assertEqual(
            self.client.get(self.url(round, "labels", self.supplier.pk)).status_code, 200
        )
        for kind, key in (
            ("pick_list", self.egg_supplier.pk),
            ("labels", self.egg_supplier.pk),
            ("manifest", self.gate.pk),
            ("manifest", UNASSIGNED),
        ):
            self.assertEqual(self.client.get(self.url(round, kind, key, "pdf")).status_code, 404)
        listing = self.client.get(f"/rounds/{round.pk}/documents/")
        self.assertNotContains(listing, "鲜蛋坊")

    def test_it_shows_a_keeper_only_the_manifests_of_their_checkpoints(self) -> None:
        round = self.closed_round()
        self.login(self.kate)
        self.assertEqual(
            self.client.get(self.url(round, "manifest", self.gate.pk)).status_code, 200
        )
        for kind, key in (
            ("manifest", self.north.pk),
            ("manifest", UNASSIGNED),
            ("pick_list", self.supplier.pk),
            ("labels", self.supplier.pk),
        ):
            self.assertEqual(self.client.get(self.url(round, kind, key)).status_code, 404)
        self.login(self.other_keeper)
        self.assertEqual(
            self.client.get(self.url(round, "manifest", self.gate.pk)).status_code, 404
        )

    def test_it_hides_documents_from_people_outside_the_round(self) -> None:
        round = self.closed_round()
        for user in (self.oscar, self.victor, self.alice):
            self.login(user)
            self.assertEqual(self.client.get(f"/rounds/{round.pk}/documents/").status_code, 404)
            self.assertEqual(
                self.client.get(self.url(round, "pick_list", self.supplier.pk, "pdf")).status_code,
                404,
            )

    def test_it_refuses_documents_before_allocation(self) -> None:
        round, _veg, _rice = self.open_round()
        self.login(self.carol)
        r = self.client.get(self.url(round, "pick_list", self.supplier.pk, "pdf"))
        self.assertEqual(r.status_code, 404)
        r = self.client.post(
            f"/rounds/{round.pk}/documents/make/",
            {"kind": "pick_list", "key": self.supplier.pk, "fmt": "pdf"},
        )
        self.assertEqual(r.status_code, 400)
        self.assertContains(r, "轮次尚未分配", status_code=400)
        self.assertFalse(RoundDocument.objects.exists())


class BackgroundTest(DocumentsTestCase):
    def test_it_makes_a_document_in_the_background_with_progress(self) -> None:
        round = self.closed_round()
        self.login(self.carol)
        r = self.client.post(
            f"/rounds/{round.pk}/documents/make/",
            {"kind": "manifest", "key": self.gate.pk, "fmt": "pdf"},
        )
        made = RoundDocument.objects.get()
        self.assertRedirects(r, f"/rounds/documents/{made.pk}/", fetch_redirect_response=False)
        # The immediate backend ran it inline: queued → running → done.
        self.assertEqual((made.status, made.progress, made.kind), ("done", 100, "manifest"))
        self.assertEqual(made.created_by, self.carol)
        page = self.client.get(f"/rounds/documents/{made.pk}/", headers={"HX-Request": "true"})
        self.assertContains(page, f"/rounds/documents/{made.pk}/file/")
        self.assertNotContains(page, "every 2s")
        file = self.client.get(f"/rounds/documents/{made.pk}/file/")
        self.assertEqual(file["Content-Type"], "application/pdf")
        content = b"".join(file.streaming_content)  # type: ignore[attr-defined]
        self.assertIn("阳光小区1号楼1单元101", pdf_text(content).replace(" ", ""))
        # A supplier may not follow or fetch a manifest.
        self.login(self.sam)
        self.assertEqual(self.client.get(f"/rounds/documents/{made.pk}/").status_code, 404)
        self.assertEqual(self.client.get(f"/rounds/documents/{made.pk}/file/").status_code, 404)

    def test_it_polls_a_queued_document_every_two_seconds(self) -> None:
        round = self.closed_round()
        made = RoundDocument.objects.create(
            round=round, kind="manifest", fmt="pdf", key=str(self.gate.pk)
        )
        self.login(self.kate)
        page = self.client.get(f"/rounds/documents/{made.pk}/", headers={"HX-Request": "true"})
        self.assertContains(page, 'hx-trigger="every 2s"')
        self.assertContains(page, "排队中")

    @override_settings()
    def test_it_sends_a_large_document_to_the_background(self) -> None:
        round = self.closed_round()
        self.login(self.carol)
        limit = documents.DIRECT_LIMIT
        documents.DIRECT_LIMIT = 2
        try:
            r = self.client.get(self.url(round, "pick_list", self.supplier.pk, "xlsx"))
            page = self.client.get(self.url(round, "pick_list", self.supplier.pk))
        finally:
            documents.DIRECT_LIMIT = limit
        made = RoundDocument.objects.get()
        self.assertRedirects(r, f"/rounds/documents/{made.pk}/", fetch_redirect_response=False)
        self.assertEqual((made.status, made.fmt), ("done", "xlsx"))
        self.assertContains(page, "页面太大")
        sheet = openpyxl.load_workbook(made.file.open("rb")).active
        self.assertIn("米面油套餐", [c for row in sheet.iter_rows(values_only=True) for c in row])


class CommandTest(DocumentsTestCase):
    def test_it_makes_a_manifest_from_the_command_line(self) -> None:
        round = self.closed_round()
        with TemporaryDirectory() as folder:
            out = Path(folder) / "m.pdf"
            stdout = io.StringIO()
            call_command(
                "documents",
                "make",
                str(round.pk),
                "--kind",
                "manifest",
                "--fmt",
                "pdf",
                "--checkpoint",
                UNASSIGNED,
                "--out",
                str(out),
                "--actor",
                "carol",
                stdout=stdout,
            )
            self.assertIn("未分配卡口", stdout.getvalue())
            self.assertIn("阳光小区3号楼1单元301", pdf_text(out.read_bytes()).replace(" ", ""))

    def test_it_refuses_a_supplier_someone_elses_pick_list(self) -> None:
        round = self.closed_round()
        with self.assertRaises(CommandError):
            call_command(
                "documents",
                "make",
                str(round.pk),
                "--kind",
                "pick_list",
                "--fmt",
                "xlsx",
                "--supplier",
                str(self.egg_supplier.pk),
                "--out",
                "never-written.xlsx",
                "--actor",
                "sam",
            )

    def test_it_lists_what_a_keeper_may_make(self) -> None:
        round = self.closed_round()
        stdout = io.StringIO()
        call_command("documents", "list", str(round.pk), "--actor", "kate", stdout=stdout)
        self.assertIn("阳光小区东门", stdout.getvalue())
        self.assertNotIn("北门", stdout.getvalue())
        self.assertEqual(round.status, RoundStatus.ALLOCATED)
        self.assertTrue(Offer.objects.filter(round=round).exists())
