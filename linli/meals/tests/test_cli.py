"""`linli meals …`: policy, eligible, enrol, daily (with PDF and tasks), deliver, figures."""

from __future__ import annotations

import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from linli.care.models import CheckIn
from linli.meals.models import MealDelivery, MealDeliveryTask, MealEnrolment, MealPolicy
from linli.meals.tests.base import MealsTestCase


def run(*args: str) -> str:
    out = StringIO()
    call_command("meals", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


class MealCliTests(MealsTestCase):
    def test_it_shows_and_sets_the_policy(self) -> None:
        self.assertIn("年满80周岁，或长护险5级及以上", run("policy", "--actor", "carol"))
        out = run("policy", "--set", "--min-ltc", "off", "--actor", "carol")
        self.assertIn("已保存", out)
        with scopes_disabled():
            policy = MealPolicy.objects.get(community=self.community)
        self.assertEqual((policy.min_age, policy.min_ltc_level), (80, None))
        with self.assertRaises(CommandError):
            run("policy", "--set", "--min-age", "70", "--actor", "alice")

    def test_it_lists_the_eligible_with_reasons(self) -> None:
        out = run("eligible", "--actor", "alice")
        self.assertIn("周满八", out)
        self.assertIn("长护险5级", out)
        self.assertNotIn("褚低保", out)
        self.assertIn("共 2 人", out)

    def test_it_enrols_prints_the_day_and_records_a_miss(self) -> None:
        run(
            "enrol",
            str(self.exactly80.pk),
            "--canteen",
            str(self.canteen.pk),
            "--meals",
            "lunch",
            "dinner",
            "--diet",
            "soft",
            "--actor",
            "carol",
        )
        with scopes_disabled():
            enrolment = MealEnrolment.objects.get()
        out = run("daily", str(self.canteen.pk), "--actor", "carol")
        self.assertIn("周满八", out)
        self.assertIn("软食", out)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "list.pdf"
            run("daily", str(self.canteen.pk), "--pdf", str(path))
            self.assertTrue(path.read_bytes().startswith(b"%PDF"))
        run("daily", str(self.canteen.pk), "--tasks", "lunch", "--actor", "alice")
        out = run(
            "deliver", str(enrolment.pk), "--missed", "--reason", "敲门无人应答", "--actor", "alice"
        )
        self.assertIn("已请网格员回访", out)
        with scopes_disabled():
            self.assertEqual(MealDeliveryTask.objects.count(), 1)
            self.assertEqual(MealDelivery.objects.get().status, "missed")
            self.assertTrue(CheckIn.objects.filter(resident=self.exactly80).exists())
        self.assertIn("未送达餐数", run("figures", "--actor", "dave"))

    def test_it_refuses_outside_the_area_and_for_roles_that_may_not(self) -> None:
        with self.assertRaises(CommandError):
            run(
                "enrol",
                str(self.b_old95.pk),
                "--canteen",
                str(self.canteen_b.pk),
                "--actor",
                "carol",
            )
        with self.assertRaises(CommandError):
            run("eligible", "--actor", "victor")
        with scopes_disabled():
            self.assertFalse(MealEnrolment.objects.exists())
