"""Undoing an import: exactly what the batch wrote goes, only while nobody has built on it."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import time_machine
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.registry import actions, scope, spreadsheets
from linli.registry.choices import CareTag
from linli.registry.models import (
    CareTagAssignment,
    Community,
    Household,
    ImportBatch,
    Resident,
)
from linli.registry.tests.test_import import ImportTestCase, person, xlsx

FILENAME = "孙悦家-错误社区.xlsx"


class ImportUndoTestCase(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        with scopes_disabled():
            self.before = self.snapshot()

    def snapshot(self) -> dict[str, set[int]]:
        with scopes_disabled():
            return {
                "residents": set(Resident.objects.values_list("pk", flat=True)),
                "households": set(Household.objects.values_list("pk", flat=True)),
                "tags": set(CareTagAssignment.objects.values_list("pk", flat=True)),
            }

    def import_rows(
        self, rows: list[list[object]], *, actor: User, community: Community | None = None
    ) -> ImportBatch:
        community = community or self.community
        with scope.activate(scope.Area(communities=[community.pk])):
            _report, summary = spreadsheets.residents_import(
                actor=actor, community=community, data=xlsx(rows), filename=FILENAME
            )
        assert summary.batch is not None
        return summary.batch

    def import_three(self) -> ImportBatch:
        """Into zhang's existing room 101, and two new rooms (one with two tags)."""
        batch = self.import_rows(
            [
                person(1, room="101", name="孙悦"),
                person(2, room="501", name="周敏", 重点人群="独居、低保"),
                person(3, room="502", name="吴刚", building="2号楼"),
            ],
            actor=self.carol,
        )
        self.imported = self.snapshot()["residents"] - self.before["residents"]
        self.assertEqual(len(self.imported), 3)
        return batch

    def resident(self, name: str) -> Resident:
        with scopes_disabled():
            return Resident.objects.select_related("household").get(name=name)

    def undo_url(self, batch: ImportBatch) -> str:
        return reverse("registry:import_undo", args=[batch.pk])

    def api(self, user: User, method: str, path: str) -> Any:
        headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"}
        return getattr(self.client, method)(path, headers=headers)

    def reload(self, batch: ImportBatch) -> ImportBatch:
        with scopes_disabled():
            return ImportBatch.objects.get(pk=batch.pk)

    def delete_entries(self, model: type[Any], pks: set[int]) -> list[LogEntry]:
        return list(
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model),
                object_id__in=pks,
                action=LogEntry.Action.DELETE,
            )
        )

    def undo_summary(self) -> LogEntry:
        entries = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Community),
            object_id=self.community.pk,
            action=LogEntry.Action.UPDATE,
        )
        return next(e for e in entries if (e.additional_data or {}).get("undo"))

    def assert_undone(self, batch: ImportBatch, actor: User) -> None:
        """Back to the world before the import, with every deletion audited to `actor`."""
        self.assertEqual(self.snapshot(), self.before)
        batch = self.reload(batch)
        self.assertIsNotNone(batch.undone_at)
        self.assertEqual(batch.undone_by, actor)
        removed = self.delete_entries(Resident, self.imported)
        self.assertEqual(len(removed), 3)
        self.assertEqual({e.actor for e in removed}, {actor})
        summary = self.undo_summary()
        self.assertEqual(summary.actor, actor)
        data = summary.additional_data
        self.assertEqual(
            (data["batch"], data["residents"], data["households"], data["tags"]),
            (batch.pk, 3, 2, 2),
        )
        self.assertNotIn(FILENAME, str(data))
        self.assertNotIn("孙悦", str(data))


class ImportUndoPageTests(ImportUndoTestCase):
    def test_it_records_the_batch_on_everything_the_import_wrote(self) -> None:
        batch = self.import_three()
        self.assertEqual((batch.residents, batch.households, batch.tags), (3, 2, 2))
        self.assertEqual((batch.created_by, batch.filename), (self.carol, FILENAME))
        with scopes_disabled():
            self.assertEqual(Resident.objects.filter(import_batch=batch).count(), 3)
            self.assertEqual(Household.objects.filter(import_batch=batch).count(), 2)
            self.assertEqual(CareTagAssignment.objects.filter(import_batch=batch).count(), 2)
            sun = self.resident("孙悦")
            self.assertEqual(sun.household, self.zhang.household)
            self.assertIsNone(sun.household.import_batch_id)
        created = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Resident),
            object_id=sun.pk,
            action=LogEntry.Action.CREATE,
        ).get()
        self.assertEqual(created.additional_data["batch"], batch.pk)
        self.assertNotIn(FILENAME, str(created.additional_data))

    def test_it_asks_before_undoing(self) -> None:
        batch = self.import_three()
        after_import = self.snapshot()
        self.login(self.carol)
        for response in (
            self.client.get(self.undo_url(batch)),
            self.client.post(self.undo_url(batch)),
            self.client.post(self.undo_url(batch), {"confirm": "1"}),
        ):
            self.assertContains(response, "确认撤销")
            self.assertContains(response, FILENAME)
        self.assertEqual(self.snapshot(), after_import)
        self.assertIsNone(self.reload(batch).undone_at)

    def test_it_undoes_exactly_what_the_batch_created(self) -> None:
        batch = self.import_three()
        self.login(self.carol)
        response = self.client.post(self.undo_url(batch), {"confirm": "yes"})
        self.assertRedirects(response, reverse("registry:import_list"))
        self.assert_undone(batch, self.carol)
        with scopes_disabled():
            # zhang's room existed before the import: it stays, with zhang in it.
            self.assertTrue(Resident.objects.filter(pk=self.zhang.pk).exists())
            self.assertTrue(Household.objects.filter(pk=self.zhang.household_id).exists())
        page = self.client.get(reverse("registry:import_list"))
        self.assertContains(page, "已撤销")
        self.assertNotContains(page, self.undo_url(batch))

    def test_it_credits_the_actor_when_called_outside_any_request(self) -> None:
        from linli.registry import actions

        batch = self.import_three()
        with scopes_disabled():
            actions.import_undo(actor=self.carol, batch=self.reload(batch))
        self.assert_undone(batch, self.carol)

    def test_it_keeps_a_created_household_someone_has_since_moved_into(self) -> None:
        batch = self.import_three()
        with scopes_disabled():
            room = self.resident("周敏").household
            added = actions.resident_create(
                actor=self.carol, household=room, values={"name": "周小敏"}
            )
        summary = actions.import_undo(actor=self.carol, batch=batch)
        self.assertEqual((summary.residents, summary.households, summary.tags), (3, 1, 2))
        with scopes_disabled():
            self.assertEqual(list(Resident.objects.filter(household=room)), [added])
            self.assertFalse(Resident.objects.filter(name__in=["孙悦", "周敏", "吴刚"]).exists())
            self.assertEqual(Household.objects.filter(import_batch=batch).get(), room)

    def test_it_refuses_after_a_resident_was_changed_and_removes_nothing(self) -> None:
        batch = self.import_three()
        with scopes_disabled():
            actions.resident_update(
                actor=self.carol, resident=self.resident("吴刚"), values={"notes": "已核实"}
            )
            actions.care_profile_save(
                actor=self.carol,
                resident=self.resident("孙悦"),
                care=actions.CareInput(tags=[CareTag.DISABLED]),
            )
        after_edit = self.snapshot()
        self.login(self.carol)
        response = self.client.post(self.undo_url(batch), {"confirm": "yes"})
        self.assertEqual(response.status_code, 400)
        text = response.content.decode()
        self.assertIn("吴刚（信息已修改）", text)
        self.assertIn("孙悦（已添加重点人群标签）", text)
        self.assertIn("孙悦（已建关爱档案）", text)
        self.assertEqual(self.snapshot(), after_edit)
        self.assertIsNone(self.reload(batch).undone_at)
        self.assertEqual(self.delete_entries(Resident, after_edit["residents"]), [])

    def test_it_refuses_when_a_resident_account_was_linked(self) -> None:
        batch = self.import_three()
        with scopes_disabled():
            Resident.objects.filter(name="周敏").update(user=self.oscar)
        with self.assertRaisesMessage(ValidationError, "周敏（已关联居民账号）"):
            actions.import_undo(actor=self.carol, batch=batch)
        with scopes_disabled():
            self.assertTrue(Resident.objects.filter(name="周敏").exists())

    def test_it_refuses_twice(self) -> None:
        batch = self.import_three()
        actions.import_undo(actor=self.carol, batch=batch)
        undone = self.snapshot()
        self.login(self.carol)
        response = self.client.post(self.undo_url(batch), {"confirm": "yes"})
        self.assertContains(response, "不能重复撤销", status_code=400)
        self.assertNotContains(response, "确认撤销", status_code=400)
        with self.assertRaisesMessage(ValidationError, "由 carol 撤销，不能重复撤销"):
            actions.import_undo(actor=self.carol, batch=batch)
        self.assertEqual(self.snapshot(), undone)

    def test_it_refuses_after_seven_days(self) -> None:
        batch = self.import_three()
        after_import = self.snapshot()
        with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1)):
            with self.assertRaisesMessage(ValidationError, "已超过 7 天，不能撤销"):
                actions.import_undo(actor=self.carol, batch=batch)
            self.login(self.carol)
            self.assertContains(self.client.get(reverse("registry:import_list")), "超过 7 天")
        self.assertEqual(self.snapshot(), after_import)

    def test_it_lists_the_imports_of_the_users_communities_only(self) -> None:
        mine = self.import_three()
        theirs = self.import_rows(
            [person(9, room="909", name="郑和", 小区="星河湾")],
            actor=self.dave,
            community=self.community_b,
        )
        self.login(self.carol)
        page = self.client.get(reverse("registry:import_list"))
        self.assertContains(page, self.undo_url(mine))
        self.assertContains(page, "撤销本次导入")
        self.assertNotContains(page, self.undo_url(theirs))
        self.assertNotContains(page, "星河社区")
        after_import = self.snapshot()
        for response in (
            self.client.get(self.undo_url(theirs)),
            self.client.post(self.undo_url(theirs), {"confirm": "yes"}),
        ):
            self.assertEqual(response.status_code, 404)
        self.assertEqual(self.snapshot(), after_import)
        self.assertIsNone(self.reload(theirs).undone_at)
        # The street admin sees both communities' imports.
        self.login(self.dave)
        page = self.client.get(reverse("registry:import_list"))
        self.assertContains(page, self.undo_url(mine))
        self.assertContains(page, self.undo_url(theirs))

    def test_it_lets_only_importers_in(self) -> None:
        batch = self.import_three()
        after_import = self.snapshot()
        for user in (self.alice, self.olivia, self.rita_user, self.oscar):
            self.login(user)
            self.assertEqual(self.client.get(reverse("registry:import_list")).status_code, 403)
            response = self.client.post(self.undo_url(batch), {"confirm": "yes"})
            self.assertEqual(response.status_code, 403, user.username)
        self.assertEqual(self.snapshot(), after_import)
        self.assertIsNone(self.reload(batch).undone_at)

    def test_it_offers_the_undo_on_the_import_done_page(self) -> None:
        self.login(self.carol)
        url = self.preview_url(xlsx([person(1, room="501")]))
        response = self.client.post(url, {"action": "commit", "expected": "1"})
        self.assertEqual(response.status_code, 200)
        with scopes_disabled():
            batch = ImportBatch.objects.get()
        self.assertContains(response, "撤销本次导入")
        self.assertContains(response, self.undo_url(batch))
        self.client.post(self.undo_url(batch), {"confirm": "yes"})
        self.assertEqual(self.snapshot(), self.before)


class ImportUndoApiTests(ImportUndoTestCase):
    def test_it_lists_recent_imports_in_the_users_area(self) -> None:
        mine = self.import_three()
        self.import_rows(
            [person(9, room="909", name="郑和", 小区="星河湾")],
            actor=self.dave,
            community=self.community_b,
        )
        response = self.api(self.carol, "get", "/api/v1/imports")
        self.assertEqual(response.status_code, 200, response.content.decode())
        body = response.json()
        self.assertEqual(body["count"], 1)
        item = body["items"][0]
        self.assertEqual(
            (item["id"], item["community"], item["created_by"], item["residents"]),
            (mine.pk, "yangguang", "carol", 3),
        )
        self.assertTrue(item["can_undo"])
        self.assertEqual(self.api(self.dave, "get", "/api/v1/imports").json()["count"], 2)
        response = self.api(self.dave, "get", "/api/v1/imports?community=xinghe")
        self.assertEqual(response.json()["count"], 1)
        self.assertEqual(self.api(self.alice, "get", "/api/v1/imports").status_code, 403)

    def test_it_undoes_an_import(self) -> None:
        batch = self.import_three()
        path = f"/api/v1/imports/batches/{batch.pk}/undo"
        response = self.api(self.carol, "post", path)
        self.assertEqual(response.status_code, 200, response.content.decode())
        self.assertEqual(
            response.json(),
            {"batch": batch.pk, "removed": {"residents": 3, "households": 2, "tags": 2}},
        )
        self.assert_undone(batch, self.carol)
        again = self.api(self.carol, "post", path)
        self.assertEqual(again.status_code, 400)
        self.assertIn("不能重复撤销", again.json()["detail"])
        self.assertEqual(self.snapshot(), self.before)

    def test_it_refuses_with_the_reason_and_removes_nothing(self) -> None:
        batch = self.import_three()
        with scopes_disabled():
            actions.resident_update(
                actor=self.carol, resident=self.resident("周敏"), values={"phone": ""}
            )
        after_edit = self.snapshot()
        response = self.api(self.carol, "post", f"/api/v1/imports/batches/{batch.pk}/undo")
        self.assertEqual(response.status_code, 400)
        self.assertIn("周敏（信息已修改）", response.json()["detail"])
        self.assertEqual(self.snapshot(), after_edit)
        self.assertIsNone(self.reload(batch).undone_at)

    def test_it_hides_other_areas_and_refuses_other_roles(self) -> None:
        theirs = self.import_rows(
            [person(9, room="909", name="郑和", 小区="星河湾")],
            actor=self.dave,
            community=self.community_b,
        )
        after_import = self.snapshot()
        path = f"/api/v1/imports/batches/{theirs.pk}/undo"
        self.assertEqual(self.api(self.carol, "post", path).status_code, 404)
        self.assertEqual(self.api(self.alice, "post", path).status_code, 403)
        bad = self.api(self.carol, "post", "/api/v1/imports/batches/x/undo")
        self.assertIn(bad.status_code, (400, 404))
        self.assertEqual(self.snapshot(), after_import)
        self.assertIsNone(self.reload(theirs).undone_at)


class ImportUndoCommandTests(ImportUndoTestCase):
    def run_command(self, *args: str) -> str:
        out = io.StringIO()
        call_command("undo-import", *args, stdout=out)
        return out.getvalue()

    def test_it_undoes_an_import_as_the_actor(self) -> None:
        batch = self.import_three()
        out = self.run_command(str(batch.pk), "--actor", "carol")
        self.assertIn(
            f"已撤销阳光社区的第 {batch.pk} 批导入：删除居民 3 位、户 2 户、重点人群标签 2 个。",
            out,
        )
        self.assert_undone(batch, self.carol)

    def test_it_fails_clearly_and_removes_nothing(self) -> None:
        batch = self.import_three()
        with scopes_disabled():
            actions.resident_update(
                actor=self.carol, resident=self.resident("孙悦"), values={"notes": "改"}
            )
        after_edit = self.snapshot()
        for args, reason in (
            (("999999",), "没有 id 为 999999 的导入批次"),
            ((str(batch.pk), "--actor", "nobody"), "没有用户名为 nobody 的有效账号"),
            ((str(batch.pk),), "孙悦（信息已修改）"),
        ):
            with self.assertRaisesMessage(CommandError, reason):
                self.run_command(*args)
        self.assertEqual(self.snapshot(), after_edit)
        self.assertIsNone(self.reload(batch).undone_at)
