"""`linli wishes …`: the same lifecycle from the command line, with refusals as exit 1."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from linli.wishes.choices import WishStatus
from linli.wishes.models import Claimer, Wish, WishBatch
from linli.wishes.tests.base import WishTestCase
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task


def run(*args: str) -> str:
    out = StringIO()
    call_command("wishes", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


class WishCommandTests(WishTestCase):
    def test_it_collects_approves_batches_publishes_and_lists(self) -> None:
        out = run(
            "collect",
            "--actor=alice",
            f"--household={self.zhang.household_id}",
            "--recipient=一位独居老人",
            "--item=老花镜",
            "--value=40",
        )
        self.assertIn("已收集心愿", out)
        with scopes_disabled():
            wish = Wish.objects.get(item="老花镜")
        self.assertEqual(wish.value_fen, 4000)
        with self.assertRaisesMessage(CommandError, "您的角色无权管理微心愿"):
            run("approve", str(wish.pk), "--actor=alice")
        run("approve", str(wish.pk), "--actor=carol")
        out = run(
            "batch-create",
            "--actor=carol",
            "--title=春节微心愿",
            f"--deliver-by={self.batch.deliver_by.isoformat()}",
            "--limit=1",
        )
        with scopes_disabled():
            batch = WishBatch.objects.get(title="春节微心愿")
        run("batch-add", str(batch.pk), str(wish.pk), "--actor=carol")
        out = run("publish", str(batch.pk), "--actor=carol")
        self.assertIn(f"/w/{batch.code}/", out)
        listing = run("list", "--actor=alice")
        self.assertIn("老花镜", listing)
        self.assertNotIn("书包", listing)
        self.assertIn("春节微心愿", run("batches"))

    def test_it_claims_for_someone_lists_claims_fulfils_thanks_and_reveals(self) -> None:
        out = run(
            "claim",
            str(self.batch.pk),
            str(self.scarf.pk),
            "--actor=carol",
            "--name=王建军",
            "--phone=13800001111",
            "--work-unit=区税务局",
        )
        self.assertIn("请于", out)
        claims = run("claims", str(self.batch.pk), "--actor=carol")
        self.assertIn("138****1111", claims)
        self.assertNotIn("13800001111", claims)
        with self.assertRaisesMessage(CommandError, "已被他人认领"):
            run(
                "claim",
                str(self.batch.pk),
                str(self.scarf.pk),
                "--actor=carol",
                "--name=赵强",
                "--phone=13900003333",
                "--work-unit=燃气公司",
            )
        run("fulfil", str(self.scarf.pk), "--centre", "--actor=carol")
        self.assertEqual(self.wish(self.scarf).status, WishStatus.FULFILLED)
        run("thank", str(self.scarf.pk), "--text=谢谢", "--actor=alice")
        self.assertEqual(self.wish(self.scarf).status, WishStatus.THANKED)
        with scopes_disabled():
            claimer = Claimer.objects.get()
        self.assertEqual(
            run("reveal", str(claimer.pk), "--reason=联系送达", "--actor=carol").strip(),
            "13800001111",
        )
        figures = run("figures", "--actor=carol")
        self.assertIn("区税务局", figures)

    def test_it_sends_to_the_door_releases_and_withdraws(self) -> None:
        self.claim(self.schoolbag)
        self.claim(self.blanket, phone="13900002222")
        out = run("fulfil", str(self.schoolbag.pk), "--door", "--actor=carol")
        with scopes_disabled():
            task = Task.objects.get(kind=TaskKind.WISH_DELIVERY)
        self.assertIn(str(task.pk), out)
        with self.assertRaisesMessage(CommandError, "--actor"):
            run("release", str(self.blanket.pk), "--reason=x")
        run("release", str(self.blanket.pk), "--reason=联系不上", "--actor=carol")
        self.assertEqual(self.wish(self.blanket).status, WishStatus.PUBLISHED)
        run("withdraw", str(self.blanket.pk), "--reason=已有捐赠", "--actor=carol")
        self.assertEqual(self.wish(self.blanket).status, WishStatus.WITHDRAWN)
        with self.assertRaisesMessage(CommandError, "未找到"):
            run("show", str(self.far_wish.pk), "--actor=carol")
        self.assertIn("电热毯", run("show", str(self.blanket.pk)))
