"""`linli rounds …` and `linli suppliers …`: the same actions and access as the pages."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from linli.supply import actions
from linli.supply.choices import Intake, RoundStatus
from linli.supply.models import CarePlan, Offer, OrderItem, Package, Supplier, SupplyRound
from linli.supply.tests.base import SupplyTestCase, make_round


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


class SupplierCommandTests(SupplyTestCase):
    def test_it_creates_a_supplier_and_adds_a_package_in_yuan_and_kg(self) -> None:
        out = run(
            "suppliers", "create", "--actor", "dave", "--name", "城南批发市场",
            "--kind", "wholesale_market", "--contact-phone", "13800138000",
            "--community", "yangguang", "--account", "sam",
        )  # fmt: skip
        self.assertIn("已新建保供单位", out)
        supplier = Supplier.objects.get(name="城南批发市场")
        self.assertEqual(list(supplier.accounts.all()), [self.sam])

        out = run(
            "suppliers", "add-package", str(supplier.pk), "--actor", "dave", "--name", "豆制品包",
            "--category", "tofu", "--weight", "1.2kg", "--price", "19.90",
        )  # fmt: skip
        self.assertIn("¥19.90", out)
        package = Package.objects.get(name="豆制品包")
        self.assertEqual((package.net_weight_g, package.price_fen), (1200, 1990))

        listing = run("suppliers", "list", "--actor", "dave")
        self.assertIn("138****8000", listing)
        self.assertNotIn("13800138000", listing)

    def test_it_refuses_three_decimals_and_other_roles(self) -> None:
        with self.assertRaisesMessage(CommandError, "最多两位小数"):
            run(
                "suppliers", "add-package", str(self.supplier.pk), "--actor", "dave",
                "--name", "豆制品包", "--category", "tofu", "--weight", "1kg", "--price", "1.999",
            )  # fmt: skip
        with self.assertRaisesMessage(CommandError, "街道保供专班"):
            run(
                "suppliers", "create", "--actor", "carol", "--name", "某超市",
                "--kind", "chain_supermarket",
            )  # fmt: skip
        self.assertFalse(Package.objects.filter(name="豆制品包").exists())
        self.assertEqual(Supplier.objects.count(), 1)


class RoundCommandTests(SupplyTestCase):
    def test_it_runs_a_round_from_create_to_copy(self) -> None:
        out = run(
            "rounds", "create", "--actor", "carol", "--title", "命令行轮次", "--scope", "community",
            "--community", str(self.community.pk), "--opens-at", "2030-05-01T06:00",
            "--closes-at", "2030-05-01T20:00", "--delivery-date", "2030-05-02",
        )  # fmt: skip
        self.assertIn("已新建轮次", out)
        round = SupplyRound.objects.get(title="命令行轮次")

        with self.assertRaisesMessage(CommandError, "请先添加至少一个供应套餐"):
            run("rounds", "open", str(round.pk), "--actor", "carol")
        with self.assertRaisesMessage(CommandError, "库存至少为 1"):
            run(
                "rounds", "add-offer", str(round.pk), "--actor", "carol",
                "--package", str(self.veg.pk), "--stock", "0",
            )  # fmt: skip
        self.assertFalse(Offer.objects.exists())
        run(
            "rounds", "add-offer", str(round.pk), "--actor", "carol",
            "--package", str(self.veg.pk), "--stock", "40", "--limit", "2",
        )  # fmt: skip
        run("rounds", "open", str(round.pk), "--actor", "carol")
        round.refresh_from_db()
        self.assertEqual(round.status, RoundStatus.OPEN)

        shown = run("rounds", "show", str(round.pk), "--actor", "carol")
        self.assertIn("蔬菜包", shown)
        self.assertIn("¥48.00", shown)
        self.assertIn("命令行轮次", run("rounds", "list", "--actor", "alice"))

        out = run("rounds", "copy", str(round.pk), "--actor", "carol")
        copy = SupplyRound.objects.exclude(pk=round.pk).get()
        self.assertIn("2030-05-03 06:00", out)
        self.assertEqual(list(copy.offers.values_list("package_id", "stock")), [(self.veg.pk, 40)])

    def test_it_refuses_a_street_round_to_community_staff(self) -> None:
        with self.assertRaisesMessage(CommandError, "全街道"):
            run(
                "rounds", "create", "--actor", "carol", "--title", "x", "--scope", "street",
                "--opens-at", "2030-05-01T06:00", "--closes-at", "2030-05-01T20:00",
                "--delivery-date", "2030-05-02",
            )  # fmt: skip
        with self.assertRaisesMessage(CommandError, "截单时间必须晚于开始接单时间"):
            run(
                "rounds", "create", "--actor", "dave", "--title", "x", "--scope", "street",
                "--opens-at", "2030-05-01T06:00", "--closes-at", "2030-05-01T05:00",
                "--delivery-date", "2030-05-02",
            )  # fmt: skip
        self.assertFalse(SupplyRound.objects.exists())

    def test_it_closes_a_fair_round_with_allocation(self) -> None:
        round, veg, _rice = self.open_round(intake=Intake.FAIR, stock=1)
        with scopes_disabled():
            for name in ("zhang", "li"):
                actions.order_place(
                    actor=self.alice,
                    round=round,
                    household=self.home(name),
                    items=[actions.ItemInput(veg, 1)],
                )
        with self.assertRaisesMessage(CommandError, "无权"):
            run("rounds", "close", str(round.pk), "--actor", "alice")
        out = run("rounds", "close", str(round.pk), "--actor", "carol")
        self.assertIn("已分配", out)
        with scopes_disabled():
            allocated = sorted(item.allocated or 0 for item in OrderItem.objects.filter(offer=veg))
        self.assertEqual(allocated, [0, 1])

    def test_it_gives_care_packages(self) -> None:
        round, veg, _rice = self.open_round()
        out = run(
            "rounds", "care", str(round.pk), "--actor", "carol", "--offer", str(veg.pk),
            "--tag", "lives_alone", "--funder", "区慈善总会",
        )  # fmt: skip
        self.assertIn("1 户", out)
        plan = CarePlan.objects.get()
        self.assertEqual((plan.households, plan.funder), (1, "区慈善总会"))

    def test_it_hides_rounds_outside_the_area(self) -> None:
        with scopes_disabled():
            far = make_round(
                self.root,
                street_id=self.community_far.street_id,
                community_id=self.community_far.pk,
            )
        with self.assertRaisesMessage(CommandError, "未找到"):
            run("rounds", "show", str(far.pk), "--actor", "carol")
        with self.assertRaisesMessage(CommandError, "未找到"):
            run("rounds", "open", str(far.pk), "--actor", "dave")
