"""The workforce REST API: sign-up, review and reveal, teams, the task board with every
transition and door, eligibility on assignment, what a volunteer may and may not see, figures.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from collections.abc import Sequence
from typing import Any

import time_machine
from auditlog.models import LogEntry
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from django_scopes import scopes_disabled
from PIL import Image

from linli.accounts.models import User
from linli.lib.identity import compose_id_number
from linli.notify.models import Message
from linli.registry.models import Community, Household
from linli.registry.tests.test_api import ApiTestCase
from linli.test import PASSWORD, make_user
from linli.workforce import actions
from linli.workforce.choices import StopStatus, TaskKind, TaskStatus, VolunteerStatus
from linli.workforce.models import Task, TaskEvent, TaskStop, Team, Volunteer

_numbers = iter(range(500, 999))


def make_volunteer(
    community: Community,
    name: str,
    phone: str,
    *,
    actor: User,
    skills: Sequence[str] = (),
    tested_at: dt.datetime | None = None,
    status: str = VolunteerStatus.VERIFIED,
) -> Volunteer:
    """A volunteer through the real sign-up and review (status "pending": not reviewed)."""
    with scopes_disabled():
        volunteer = actions.volunteer_signup(
            community=community,
            data=actions.SignupInput(
                name=name,
                phone=phone,
                id_number=compose_id_number("110101", dt.date(1990, 5, 4), next(_numbers)),
                password=PASSWORD,
                skills=skills,
                last_negative_test_at=tested_at,
            ),
        )
        if status != VolunteerStatus.PENDING:
            actions.volunteer_review(actor=actor, volunteer=volunteer, status=status, reason="测试")
        volunteer.refresh_from_db()
    return volunteer


def household_of(resident: Any) -> Household:
    with scopes_disabled():
        household: Household = Household.objects.get(pk=resident.household_id)
    return household


class WorkforceApiTestCase(ApiTestCase):
    vera: Volunteer
    wendy: Volunteer
    pete: Volunteer
    delivery: Task

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.vera = make_volunteer(
            cls.community, "韦拉", "13700001111", actor=cls.carol, skills=["driver"]
        )
        cls.wendy = make_volunteer(cls.community, "温迪", "13700002222", actor=cls.carol)
        cls.pete = make_volunteer(
            cls.community, "彭涛", "13700003333", actor=cls.carol, status=VolunteerStatus.PENDING
        )
        with scopes_disabled():
            cls.delivery = actions.task_create(
                actor=cls.carol,
                community=cls.community,
                kind=TaskKind.DELIVERY_BUNDLE,
                title="1号楼送菜",
                stops=[actions.StopInput(household=household_of(cls.zhang), items="蔬菜包×1")],
            )

    def task(self, pk: int | None = None) -> Task:
        with scopes_disabled():
            return Task.objects.get(pk=pk or self.delivery.pk)

    def stop(self) -> TaskStop:
        with scopes_disabled():
            return TaskStop.objects.get(task=self.delivery)

    def fails(self, response: Any, expected: int, /, **fields: str) -> None:
        """A JSON error with status `expected`; each field's reasons contain the text."""
        self.assertEqual(response.status_code, expected, response.content)
        body = response.json()
        self.assertTrue(body["detail"])
        reasons: dict[str, str] = {}
        for error in body["errors"]:
            reasons[error["field"]] = reasons.get(error["field"], "") + error["message"]
        for field, text in fields.items():
            self.assertIn(field, reasons, body)
            self.assertIn(text, reasons[field])

    def post(self, user: User | None, path: str, body: Any = None) -> Any:
        return self.call(user, "POST", path, {} if body is None else body)


class VolunteerSignupTests(WorkforceApiTestCase):
    def test_it_signs_up_a_volunteer_without_signing_in(self) -> None:
        with scopes_disabled():
            compound_id = self.unit1.building.compound_id
        response = self.post(
            None,
            "/api/v1/volunteers/signup/yangguang",
            {
                "name": "孙悦",
                "phone": "13700004444",
                "id_number": compose_id_number("110101", dt.date(1992, 1, 2), 11),
                "password": PASSWORD,
                "compound_id": compound_id,
                "skills": ["medical", "driver"],
                "availability": ["6-am", "1-pm"],
                "is_party_member": True,
                "work_unit": "区卫健委",
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["status"], "pending")
        self.assertNotIn("13700004444", response.content.decode())
        with scopes_disabled():
            volunteer = Volunteer.objects.get(pk=body["id"])
        self.assertEqual(volunteer.name, "孙悦")
        self.assertEqual(volunteer.community, self.community)
        self.assertEqual(volunteer.compound_id, compound_id)
        self.assertEqual(volunteer.skills, ["driver", "medical"])
        self.assertEqual(volunteer.availability, ["1-pm", "6-am"])
        self.assertTrue(volunteer.is_party_member)
        self.assertFalse(volunteer.user.is_active)
        self.assertEqual(volunteer.user.username, body["username"])

    def test_it_names_the_field_of_a_bad_signup_and_writes_nothing(self) -> None:
        good = {
            "name": "孙悦",
            "phone": "13700004444",
            "id_number": compose_id_number("110101", dt.date(1992, 1, 2), 12),
            "password": PASSWORD,
        }
        with scopes_disabled():
            before = Volunteer.objects.count()
            far_building = self.unit_far.building_id
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"id_number": "110101199201021230"}, "id_number", ""),
            ({"phone": "13700001111"}, "phone", "已报名"),
            ({"skills": ["juggling"]}, "skills", "juggling"),
            ({"availability": ["8-am"]}, "availability", "8-am"),
            ({"building_id": far_building}, "building_id", "不属于"),
            ({"shoe_size": 42}, "shoe_size", "不支持"),
            ({"name": ""}, "name", "不能为空"),
            ({"last_negative_test_at": "昨天"}, "last_negative_test_at", "时间格式"),
        ]
        for change, field, text in cases:
            with self.subTest(field=field):
                response = self.post(None, "/api/v1/volunteers/signup/yangguang", good | change)
                self.fails(response, 400, **{field: text})
        with scopes_disabled():
            self.assertEqual(Volunteer.objects.count(), before)

    def test_it_answers_404_for_an_unknown_community(self) -> None:
        body = {"name": "x", "phone": "13700004444", "id_number": "x", "password": PASSWORD}
        response = self.post(None, "/api/v1/volunteers/signup/nowhere", body)
        self.fails(response, 404)

    def test_it_limits_signups_per_address(self) -> None:
        body = {"name": "x", "phone": "13700004444", "id_number": "x", "password": PASSWORD}
        cache.clear()
        with override_settings(LINLI_SIGNUP_RATE="2/m"):
            statuses = [
                self.post(None, "/api/v1/volunteers/signup/yangguang", body).status_code
                for _ in range(3)
            ]
        cache.clear()
        self.assertEqual(statuses, [400, 400, 429])


class VolunteerTests(WorkforceApiTestCase):
    def names(self, user: User, path: str) -> set[str]:
        response = self.get(user, path)
        self.assertEqual(response.status_code, 200, response.content)
        return {item["name"] for item in response.json()["items"]}

    def test_it_lists_volunteers_for_staff_with_filters(self) -> None:
        self.assertEqual(self.names(self.carol, "/api/v1/volunteers"), {"韦拉", "温迪", "彭涛"})
        self.assertEqual(self.names(self.alice, "/api/v1/volunteers"), {"韦拉", "温迪", "彭涛"})
        self.assertEqual(self.names(self.carol, "/api/v1/volunteers?status=pending"), {"彭涛"})
        self.assertEqual(self.names(self.carol, "/api/v1/volunteers?skill=driver"), {"韦拉"})
        self.assertEqual(self.names(self.carol, "/api/v1/volunteers?q=温"), {"温迪"})
        self.assertEqual(self.names(self.carol, "/api/v1/volunteers?q=13700002222"), {"温迪"})
        response = self.get(self.carol, "/api/v1/volunteers?skill=juggling")
        self.fails(response, 400, skill="取值无效")

    def test_it_shows_masked_numbers_skills_and_eligibility(self) -> None:
        response = self.get(self.carol, f"/api/v1/volunteers/{self.vera.pk}")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["phone_masked"], "137****1111")
        self.assertNotIn(self.vera.id_number, response.content.decode())
        self.assertNotIn("13700001111", response.content.decode())
        self.assertEqual(body["skills"], [{"code": "driver", "label": "驾驶"}])
        self.assertTrue(body["eligible"])
        pending = self.get(self.carol, f"/api/v1/volunteers/{self.pete.pk}").json()
        self.assertFalse(pending["eligible"])
        self.assertIn("待审核", pending["ineligible_reasons"][0])

    def test_it_shows_a_volunteer_only_themselves(self) -> None:
        vera = self.vera.user
        self.assertEqual(self.names(vera, "/api/v1/volunteers"), {"韦拉"})
        self.fails(self.get(vera, f"/api/v1/volunteers/{self.wendy.pk}"), 404)
        me = self.get(vera, "/api/v1/volunteers/me")
        self.assertEqual(me.status_code, 200)
        self.assertEqual(me.json()["id"], self.vera.pk)

    def test_it_refuses_volunteers_to_roles_without_business(self) -> None:
        for user in (self.kate, self.sam, self.rita_user, self.oscar):
            with self.subTest(user=user.username):
                self.fails(self.get(user, "/api/v1/volunteers"), 403)
                self.fails(self.get(user, f"/api/v1/volunteers/{self.vera.pk}"), 403)
        self.fails(self.get(self.carol, "/api/v1/volunteers/me"), 403)
        self.fails(self.get(None, "/api/v1/volunteers"), 401)

    def test_it_keeps_other_communities_out(self) -> None:
        elsewhere = make_volunteer(self.community_far, "远方", "13700005555", actor=self.root)
        self.assertNotIn("远方", self.names(self.dave, "/api/v1/volunteers"))
        self.fails(self.get(self.carol, f"/api/v1/volunteers/{elsewhere.pk}"), 404)

    def test_it_lets_staff_verify_reject_and_suspend(self) -> None:
        path = f"/api/v1/volunteers/{self.pete.pk}/review"
        response = self.post(self.carol, path, {"status": "verified"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "verified")
        with scopes_disabled():
            self.pete.refresh_from_db()
        self.assertEqual(self.pete.status, VolunteerStatus.VERIFIED)
        self.assertEqual(self.pete.reviewed_by, self.carol)
        self.assertTrue(User.objects.get(pk=self.pete.user_id).is_active)

        self.fails(self.post(self.carol, path, {"status": "suspended"}), 400, reason="原因")
        self.fails(self.post(self.carol, path, {"status": "pending"}), 400, status="取值")
        response = self.post(self.carol, path, {"status": "suspended", "reason": "多次爽约"})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(User.objects.get(pk=self.pete.user_id).is_active)

    def test_it_refuses_review_to_those_who_may_not(self) -> None:
        path = f"/api/v1/volunteers/{self.pete.pk}/review"
        for user in (self.alice, self.olivia, self.vera.user, self.kate):
            with self.subTest(user=user.username):
                self.fails(self.post(user, path, {"status": "verified"}), 403)
        with scopes_disabled():
            self.assertEqual(Volunteer.objects.get(pk=self.pete.pk).status, "pending")

    def test_it_reveals_a_number_with_an_audit_record(self) -> None:
        path = f"/api/v1/volunteers/{self.vera.pk}/reveal"
        response = self.post(self.carol, path, {"field": "phone", "reason": "联系送货"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"field": "phone", "value": "13700001111"})
        entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, actor=self.carol)
        self.assertEqual(entry.object_pk, str(self.vera.pk))
        self.assertEqual(entry.additional_data["reason"], "联系送货")
        self.fails(self.post(self.carol, path, {"field": "name", "reason": "x"}), 400)
        self.fails(self.post(self.carol, path, {"field": "phone", "reason": ""}), 400)
        self.fails(self.post(self.alice, path, {"field": "phone", "reason": "看看"}), 403)
        self.assertEqual(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count(), 1)

    def test_it_lets_a_volunteer_update_their_own_record(self) -> None:
        tested = "2024-05-01T09:30:00+08:00"
        with time_machine.travel(dt.datetime(2024, 5, 2, tzinfo=dt.UTC), tick=False):
            response = self.call(
                self.vera.user,
                "PATCH",
                f"/api/v1/volunteers/{self.vera.pk}",
                {"skills": ["driver", "phone_help"], "last_negative_test_at": tested},
            )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["last_negative_test_at"], tested)
        with scopes_disabled():
            self.vera.refresh_from_db()
        self.assertEqual(self.vera.skills, ["driver", "phone_help"])
        self.assertEqual(
            self.vera.last_negative_test_at, dt.datetime(2024, 5, 1, 1, 30, tzinfo=dt.UTC)
        )
        self.assertEqual(self.vera.work_unit, "")  # untouched

    def test_it_limits_who_may_update_whom(self) -> None:
        path = f"/api/v1/volunteers/{self.wendy.pk}"
        body = {"work_unit": "篡改"}
        self.fails(self.call(self.vera.user, "PATCH", path, body), 404)
        self.fails(self.call(self.alice, "PATCH", path, body), 403)
        self.fails(self.call(self.sam, "PATCH", path, body), 403)
        response = self.call(self.carol, "PATCH", path, {"is_party_member": True})
        self.assertEqual(response.status_code, 200)
        with scopes_disabled():
            wendy = Volunteer.objects.get(pk=self.wendy.pk)
        self.assertEqual(wendy.work_unit, "")
        self.assertTrue(wendy.is_party_member)

    def test_it_names_the_field_of_a_bad_update(self) -> None:
        path = f"/api/v1/volunteers/{self.vera.pk}"
        future = (timezone.now() + dt.timedelta(days=1)).isoformat()
        cases: list[tuple[Any, str, str]] = [
            ({"skills": ["juggling"]}, "skills", "juggling"),
            ({"last_negative_test_at": future}, "last_negative_test_at", "晚于"),
            ({"availability": "1-am"}, "availability", "列表"),
            ({"status": "verified"}, "status", "不支持"),
        ]
        for body, field, text in cases:
            with self.subTest(field=field):
                response = self.call(self.vera.user, "PATCH", path, body)
                self.fails(response, 400, **{field: text})
        self.fails(self.call(self.vera.user, "PATCH", path, "{oops"), 400, __all__="JSON")
        with scopes_disabled():
            self.assertEqual(Volunteer.objects.get(pk=self.vera.pk).skills, ["driver"])


class TeamTests(WorkforceApiTestCase):
    def test_it_creates_and_replaces_a_team(self) -> None:
        body = {
            "name": "1号卡口临时党支部",
            "kind": "party_branch",
            "leader_id": self.carol.pk,
            "member_ids": [self.vera.user_id, self.wendy.user_id],
            "building_ids": [self.unit1.building_id],
        }
        response = self.post(self.carol, "/api/v1/teams", body)
        self.assertEqual(response.status_code, 201, response.content)
        with scopes_disabled():
            team = Team.objects.get(pk=response.json()["id"])
            self.assertEqual(team.community, self.community)
            self.assertEqual(team.leader, self.carol)
            self.assertEqual(
                set(team.members.values_list("pk", flat=True)),
                {self.carol.pk, self.vera.user_id, self.wendy.user_id},
            )
            self.assertEqual(list(team.buildings.all()), [self.unit1.building])
        members = {m["name"]: m for m in response.json()["members"]}
        self.assertEqual(members["韦拉"]["volunteer_id"], self.vera.pk)

        body |= {"name": "第一服务队", "kind": "service_team", "member_ids": [self.wendy.user_id]}
        del body["leader_id"]
        response = self.call(self.carol, "PUT", f"/api/v1/teams/{team.pk}", body)
        self.assertEqual(response.status_code, 200, response.content)
        with scopes_disabled():
            team.refresh_from_db()
            self.assertEqual(team.name, "第一服务队")
            self.assertIsNone(team.leader)
            self.assertEqual(list(team.members.all()), [self.wendy.user])

        # Volunteers see the teams they are on, nothing else.
        listed = self.get(self.wendy.user, "/api/v1/teams").json()["items"]
        self.assertEqual([t["id"] for t in listed], [team.pk])
        self.assertEqual(self.get(self.vera.user, "/api/v1/teams").json()["count"], 0)
        self.fails(self.get(self.vera.user, f"/api/v1/teams/{team.pk}"), 404)

    def test_it_names_the_field_of_a_bad_team(self) -> None:
        with scopes_disabled():
            actions.team_save(
                actor=self.carol, community=self.community, name="已有", kind="service_team"
            )
        stranger = make_user("stranger", "community_staff", community=self.community_b)
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"name": "已有"}, "name", "同名"),
            ({"kind": "club"}, "kind", "取值无效"),
            ({"member_ids": [stranger.pk]}, "member_ids", str(stranger.pk)),
            ({"leader_id": self.sam.pk}, "leader_id", str(self.sam.pk)),
            ({"building_ids": [self.unit_far.building_id]}, "building_ids", "不存在"),
            ({"community": "yuanfang"}, "community", "yuanfang"),
        ]
        for change, field, text in cases:
            with self.subTest(field=field):
                body = {"name": "新队", "kind": "service_team"} | change
                self.fails(self.post(self.carol, "/api/v1/teams", body), 400, **{field: text})
        with scopes_disabled():
            self.assertEqual(Team.objects.count(), 1)

    def test_it_asks_a_street_admin_which_community(self) -> None:
        body = {"name": "街道队", "kind": "service_team"}
        self.fails(self.post(self.dave, "/api/v1/teams", body), 400, community="社区编码")
        response = self.post(self.dave, "/api/v1/teams", body | {"community": "xinghe"})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["community_id"], self.community_b.pk)

    def test_it_refuses_teams_to_roles_that_may_not(self) -> None:
        body = {"name": "x", "kind": "service_team"}
        for user in (self.alice, self.vera.user, self.kate, self.sam):
            with self.subTest(user=user.username):
                self.fails(self.post(user, "/api/v1/teams", body), 403)
        for user in (self.kate, self.sam, self.rita_user):
            self.fails(self.get(user, "/api/v1/teams"), 403)
        with scopes_disabled():
            self.assertFalse(Team.objects.exists())


class TaskCreateTests(WorkforceApiTestCase):
    def test_it_creates_a_delivery_task_with_stops(self) -> None:
        body = {
            "kind": "delivery_bundle",
            "title": "送米面油",
            "stops": [
                {"household_id": self.zhang.household_id, "items": "米面油×1"},
                {"household_id": self.zeng.household_id, "items": "米面油×2"},
            ],
            "required_skills": ["heavy_lifting"],
            "starts_at": "2030-05-01T09:00:00",
            "ends_at": "2030-05-01T11:00:00+08:00",
        }
        response = self.post(self.alice, "/api/v1/tasks", body)
        self.assertEqual(response.status_code, 201, response.content)
        created = response.json()
        self.assertEqual(created["starts_at"], "2030-05-01T09:00:00+08:00")
        self.assertEqual([s["items"] for s in created["stops"]], ["米面油×1", "米面油×2"])
        self.assertTrue(all(len(s["door_code"]) == 4 for s in created["stops"]))
        with scopes_disabled():
            task = Task.objects.get(pk=created["id"])
            self.assertEqual(task.status, TaskStatus.OPEN)
            self.assertEqual(task.size, 2)
            self.assertEqual(task.created_by, self.alice)
            self.assertEqual(task.starts_at, dt.datetime(2030, 5, 1, 1, tzinfo=dt.UTC))
            addresses = list(task.stops.values_list("address", flat=True))
        self.assertEqual(addresses[0], household_of(self.zhang).address)

    def test_it_names_the_field_of_a_bad_task_and_writes_nothing(self) -> None:
        with scopes_disabled():
            before = Task.objects.count()
        good = {"kind": "errand", "title": "代买药"}
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"kind": "delivery_bundle"}, "stops", "至少"),
            ({"stops": [{"household_id": self.zhang.household_id}]}, "stops", "只有"),
            (
                {"kind": "delivery_bundle", "stops": [{"household_id": self.li.household_id}]},
                "stops",
                "不存在",  # outside alice's grid
            ),
            ({"kind": "parade"}, "kind", "取值无效"),
            ({"title": ""}, "title", "不能为空"),
            ({"required_skills": ["juggling"]}, "required_skills", "juggling"),
            (
                {"starts_at": "2030-05-01T10:00:00", "ends_at": "2030-05-01T09:00:00"},
                "ends_at",
                "晚于",
            ),
            ({"size": 0}, "size", "不能小于"),
            ({"building_ids": ["x"]}, "building_ids.0", "整数"),
        ]
        for change, field, text in cases:
            with self.subTest(field=field, change=change):
                response = self.post(self.alice, "/api/v1/tasks", good | change)
                self.fails(response, 400, **{field: text})
        self.fails(self.post(self.alice, "/api/v1/tasks", "{"), 400, __all__="JSON")
        with scopes_disabled():
            self.assertEqual(Task.objects.count(), before)

    def test_it_refuses_task_creation_to_roles_that_may_not(self) -> None:
        for user in (self.vera.user, self.kate, self.sam, self.rita_user, self.oscar):
            with self.subTest(user=user.username):
                response = self.post(user, "/api/v1/tasks", {"kind": "errand", "title": "x"})
                self.fails(response, 403)
        self.fails(self.post(None, "/api/v1/tasks", {}), 401)


class AssignmentEligibilityTests(WorkforceApiTestCase):
    def assign(self, volunteer: Volunteer, task: Task | None = None) -> Any:
        task = task or self.delivery
        return self.post(
            self.carol, f"/api/v1/tasks/{task.pk}/assign", {"volunteer_id": volunteer.pk}
        )

    def assert_unchanged(self, task: Task | None = None) -> None:
        task = self.task(task.pk if task else None)
        self.assertEqual(task.status, TaskStatus.OPEN)
        self.assertIsNone(task.volunteer_id)

    def test_it_assigns_an_eligible_volunteer(self) -> None:
        response = self.assign(self.vera)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["volunteer"], {"id": self.vera.pk, "name": "韦拉"})
        task = self.task()
        self.assertEqual(task.status, TaskStatus.ASSIGNED)
        self.assertEqual(task.volunteer, self.vera)
        with scopes_disabled():
            event = TaskEvent.objects.filter(task=task).last()
        assert event is not None
        self.assertEqual((event.actor, event.to_status), (self.carol, TaskStatus.ASSIGNED))

    def test_it_refuses_an_unverified_volunteer(self) -> None:
        self.fails(self.assign(self.pete), 400, volunteer_id="待审核")
        self.assert_unchanged()

    def test_it_refuses_a_stale_test_when_the_community_asks_for_one(self) -> None:
        now = dt.datetime(2024, 5, 10, 12, tzinfo=dt.UTC)
        with scopes_disabled():
            Community.objects.filter(pk=self.community.pk).update(volunteer_test_required=True)
            Volunteer.objects.filter(pk=self.vera.pk).update(
                last_negative_test_at=now - dt.timedelta(hours=49)
            )
        with time_machine.travel(now, tick=False):
            response = self.assign(self.vera)
        self.fails(response, 400, volunteer_id="核酸阴性已超过48小时")
        self.assert_unchanged()
        with time_machine.travel(now - dt.timedelta(hours=2), tick=False):
            self.assertEqual(self.assign(self.vera).status_code, 200)

    def test_it_refuses_a_volunteer_without_the_skill(self) -> None:
        with scopes_disabled():
            task = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.ERRAND,
                title="送老人去医院",
                required_skills=["driver", "medical"],
            )
        self.fails(self.assign(self.vera, task), 400, volunteer_id="缺少技能：医护")
        self.assert_unchanged(task)

    def test_it_refuses_a_volunteer_taking_what_they_may_not(self) -> None:
        with scopes_disabled():
            task = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.ERRAND,
                title="送老人去医院",
                required_skills=["medical"],
            )
        response = self.post(self.vera.user, f"/api/v1/tasks/{task.pk}/take")
        self.fails(response, 400, volunteer="缺少技能：医护")
        self.assert_unchanged(task)
        # A pending sign-up has no working account: it cannot reach the board at all.
        self.assertFalse(self.pete.user.is_active)

    def test_it_names_the_field_of_a_bad_assignment(self) -> None:
        path = f"/api/v1/tasks/{self.delivery.pk}/assign"
        self.fails(self.post(self.carol, path, {"volunteer_id": "x"}), 400, volunteer_id="整数")
        self.fails(self.post(self.carol, path, {}), 400, volunteer_id="必填")
        far = make_volunteer(self.community_far, "远方", "13700005555", actor=self.root)
        self.fails(
            self.post(self.carol, path, {"volunteer_id": far.pk}), 400, volunteer_id="不存在"
        )
        self.fails(self.post(self.alice, "/api/v1/tasks/999999/assign", {"volunteer_id": 1}), 404)
        self.fails(self.post(self.vera.user, path, {"volunteer_id": self.vera.pk}), 403)
        self.assert_unchanged()


class VolunteerTaskTests(WorkforceApiTestCase):
    def test_it_carries_a_delivery_from_taking_to_done(self) -> None:
        vera = self.vera.user
        task_path = f"/api/v1/tasks/{self.delivery.pk}"
        # An open task: on the board, but its doors are not hers yet.
        detail = self.get(vera, task_path).json()
        self.assertIsNone(detail["stops"])

        start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
        with time_machine.travel(start, tick=False):
            response = self.post(vera, f"{task_path}/take")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.task().status, TaskStatus.ACCEPTED)
        self.assertEqual(self.task().volunteer, self.vera)

        stops = response.json()["stops"]
        self.assertEqual(len(stops), 1)
        self.assertIsNone(stops[0]["door_code"])
        self.assertIsNone(stops[0]["household_id"])

        with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
            self.assertEqual(self.post(vera, f"{task_path}/start").status_code, 200)
        self.assertEqual(self.task().status, TaskStatus.IN_PROGRESS)
        with scopes_disabled():
            told = Message.objects.get(kind="task.on_the_way")
        self.assertIn(self.stop().door_code, told.body)

        stop_path = f"/api/v1/stops/{self.stop().pk}/deliver"
        wrong = "0000" if self.stop().door_code != "0000" else "1111"
        self.fails(self.post(vera, stop_path, {"code": wrong}), 400, code="不正确")
        self.assertEqual(self.stop().code_attempts, 1)
        self.assertEqual(self.stop().status, StopStatus.PENDING)

        with time_machine.travel(start + dt.timedelta(minutes=40), tick=False):
            response = self.post(vera, stop_path, {"code": self.stop().door_code})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.stop().status, StopStatus.DELIVERED)
        self.assertEqual(self.stop().done_by, vera)
        task = self.task()
        self.assertEqual(task.status, TaskStatus.DONE)
        self.assertEqual(task.minutes, 45)  # whole quarter hours from acceptance
        self.assertEqual(response.json()["status"], "done")

        events = self.get(vera, f"{task_path}/events").json()
        self.assertEqual(
            [e["to_status"] for e in events],
            ["open", "accepted", "in_progress", "done"],
        )
        hours = self.get(self.carol, "/api/v1/figures/volunteer-hours").json()
        self.assertEqual(
            hours["items"],
            [{"id": self.vera.pk, "name": "韦拉", "tasks": 1, "minutes": 45, "hours": 0.8}],
        )
        own = self.get(vera, "/api/v1/figures/volunteer-hours").json()
        self.assertEqual(own["count"], 1)
        finished = timezone.localtime(start + dt.timedelta(minutes=40))
        since = (finished - dt.timedelta(days=1)).date().isoformat()
        done = self.get(self.carol, f"/api/v1/figures/tasks-done?since={since}").json()
        self.assertEqual(done["items"][0]["day"], finished.date().isoformat())
        self.assertEqual(done["items"][0]["kind"], "delivery_bundle")
        later = (finished + dt.timedelta(days=1)).date().isoformat()
        self.assertEqual(
            self.get(self.carol, f"/api/v1/figures/tasks-done?since={later}").json()["count"], 0
        )

    def test_it_shows_a_volunteer_their_tasks_and_the_open_ones_only(self) -> None:
        with scopes_disabled():
            wendys = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.DELIVERY_BUNDLE,
                title="温迪的任务",
                stops=[actions.StopInput(household=household_of(self.li))],
            )
            actions.task_assign(actor=self.carol, task=wendys, volunteer=self.wendy)
        vera = self.vera.user
        titles = {t["title"] for t in self.get(vera, "/api/v1/tasks").json()["items"]}
        self.assertEqual(titles, {"1号楼送菜"})
        self.fails(self.get(vera, f"/api/v1/tasks/{wendys.pk}"), 404)
        self.fails(self.get(vera, f"/api/v1/tasks/{wendys.pk}/events"), 404)
        with scopes_disabled():
            wendys_stop = TaskStop.objects.get(task=wendys)
        self.fails(
            self.post(vera, f"/api/v1/stops/{wendys_stop.pk}/deliver", {"code": "1234"}), 404
        )
        self.assertEqual(self.get(vera, "/api/v1/tasks?mine=true").json()["count"], 0)
        self.assertEqual(self.get(self.carol, "/api/v1/tasks?mine=true").json()["count"], 0)
        mine = self.get(self.wendy.user, "/api/v1/tasks?mine=true").json()["items"]
        self.assertEqual([t["id"] for t in mine], [wendys.pk])
        # The open task's events are for dispatchers and its volunteer.
        self.fails(self.get(vera, f"/api/v1/tasks/{self.delivery.pk}/events"), 403)
        # Staff see every task and the codes.
        staff = self.get(self.carol, "/api/v1/tasks?status=assigned").json()["items"]
        self.assertEqual([t["id"] for t in staff], [wendys.pk])
        codes = self.get(self.carol, f"/api/v1/tasks/{wendys.pk}").json()["stops"]
        self.assertEqual(codes[0]["door_code"], wendys_stop.door_code)

    def test_it_never_shows_a_volunteer_a_door_code(self) -> None:
        with scopes_disabled():
            actions.task_assign(actor=self.carol, task=self.delivery, volunteer=self.vera)
        vera = self.vera.user
        code = self.stop().door_code
        bodies = [
            self.get(vera, "/api/v1/tasks").content,
            self.get(vera, f"/api/v1/tasks/{self.delivery.pk}").content,
            self.post(vera, f"/api/v1/tasks/{self.delivery.pk}/accept").content,
            self.post(vera, f"/api/v1/tasks/{self.delivery.pk}/start").content,
            self.get(vera, f"/api/v1/tasks/{self.delivery.pk}/events").content,
        ]
        self.assertEqual(self.task().status, TaskStatus.IN_PROGRESS)
        for body in bodies:
            self.assertNotIn(f'"{code}"', body.decode())
            self.assertNotIn('"door_code": "', json.dumps(json.loads(body), ensure_ascii=False))

    def test_it_releases_fails_reopens_and_cancels(self) -> None:
        path = f"/api/v1/tasks/{self.delivery.pk}"
        vera = self.vera.user
        self.assertEqual(self.post(vera, f"{path}/take").status_code, 200)
        response = self.client.post(
            f"{path}/release", content_type="application/json", headers=bearer_for(self, vera)
        )  # no body at all: the reason is optional
        self.assertEqual(response.status_code, 200, response.content)
        task = self.task()
        self.assertEqual((task.status, task.volunteer_id), (TaskStatus.OPEN, None))

        self.post(vera, f"{path}/take")
        self.post(vera, f"{path}/start")
        self.fails(self.post(vera, f"{path}/fail", {}), 400, reason="必填")
        self.assertEqual(self.task().status, TaskStatus.IN_PROGRESS)
        self.fails(self.post(vera, f"{path}/finish"), 400, stops="未处理")
        response = self.post(vera, f"{path}/fail", {"reason": "车坏了"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.task().failure_reason, "车坏了")
        self.assertEqual(self.task().status, TaskStatus.FAILED)

        self.fails(self.post(vera, f"{path}/reopen"), 403)
        self.assertEqual(self.post(self.alice, f"{path}/reopen").status_code, 200)
        self.assertEqual(self.task().status, TaskStatus.OPEN)
        self.fails(self.post(self.alice, f"{path}/cancel", {"reason": ""}), 400, reason="不能为空")
        self.fails(self.post(vera, f"{path}/cancel", {"reason": "不要了"}), 403)
        self.assertEqual(
            self.post(self.alice, f"{path}/cancel", {"reason": "不要了"}).status_code, 200
        )
        self.assertEqual(self.task().status, TaskStatus.CANCELLED)
        self.fails(self.post(vera, f"{path}/take"), 404)  # no longer on her board
        self.fails(self.post(self.alice, f"{path}/reopen"), 400, status="已取消")

    def test_it_credits_and_corrects_minutes(self) -> None:
        with scopes_disabled():
            task = actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=TaskKind.ERRAND,
                title="代买药",
                starts_at=dt.datetime(2024, 5, 1, 1, tzinfo=dt.UTC),
                ends_at=dt.datetime(2024, 5, 1, 3, tzinfo=dt.UTC),
            )
        path = f"/api/v1/tasks/{task.pk}"
        vera = self.vera.user
        self.fails(self.post(self.carol, f"{path}/minutes", {"minutes": 30}), 400, minutes="已完成")
        self.post(vera, f"{path}/take")
        self.post(vera, f"{path}/start")
        response = self.post(vera, f"{path}/finish", {"note": "药已送到"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            (self.task(task.pk).minutes, self.task(task.pk).proof_note), (120, "药已送到")
        )
        self.fails(self.post(self.alice, f"{path}/minutes", {"minutes": 30}), 403)
        self.fails(self.post(vera, f"{path}/minutes", {"minutes": 600}), 403)
        self.fails(
            self.post(self.carol, f"{path}/minutes", {"minutes": -5}), 400, minutes="不能小于"
        )
        self.assertEqual(self.post(self.carol, f"{path}/minutes", {"minutes": 90}).status_code, 200)
        self.assertEqual(self.task(task.pk).minutes, 90)

    def test_it_leaves_goods_at_the_door_with_a_photo_and_tells_the_household(self) -> None:
        with scopes_disabled():
            actions.task_take(volunteer=self.vera, task=self.delivery)
            actions.task_start(actor=self.vera.user, task=self.delivery)
        vera = self.vera.user
        token = bearer_for(self, vera)
        path = f"/api/v1/stops/{self.stop().pk}/left-at-door"
        bad = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
        response = self.client.post(path, {"photo": bad}, headers=token)
        self.fails(response, 400, photo="")
        self.assertEqual(self.stop().status, StopStatus.PENDING)

        image = io.BytesIO()
        Image.new("RGB", (4, 4), "red").save(image, format="PNG")
        photo = SimpleUploadedFile("door.png", image.getvalue(), content_type="image/png")
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            response = self.client.post(path, {"photo": photo}, headers=token)
            self.assertEqual(response.status_code, 200, response.content)
            stop = self.stop()
            self.assertEqual((stop.status, stop.proof), (StopStatus.LEFT_AT_DOOR, "photo"))
            self.assertTrue(stop.photo.name.startswith("proofs/"))
        self.assertEqual(self.task().status, TaskStatus.DONE)
        with scopes_disabled():
            told = Message.objects.get(kind="task.left_at_door")
        self.assertEqual(told.to_phone, self.zhang.phone)
        self.assertEqual(told.community_id, self.community.pk)

    def test_it_records_a_door_not_reached(self) -> None:
        with scopes_disabled():
            actions.task_take(volunteer=self.vera, task=self.delivery)
        vera = self.vera.user
        path = f"/api/v1/stops/{self.stop().pk}/fail"
        self.fails(self.post(vera, path, {"reason": "无人"}), 400, status="出发")
        self.post(vera, f"/api/v1/tasks/{self.delivery.pk}/start")
        self.fails(self.post(vera, path, {"reason": ""}), 400, reason="不能为空")
        self.fails(self.post(self.wendy.user, path, {"reason": "无人"}), 404)
        response = self.post(vera, path, {"reason": "家中无人"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.stop().status, StopStatus.FAILED)
        self.assertEqual(self.stop().failure_reason, "家中无人")
        # Its only door not reached: the task failed, to be reopened and tried again.
        self.assertEqual(self.task().status, TaskStatus.FAILED)
        self.assertEqual(response.json()["status"], "failed")

    def test_it_refuses_the_board_to_roles_without_business(self) -> None:
        for user in (self.kate, self.sam, self.rita_user, self.oscar):
            with self.subTest(user=user.username):
                self.fails(self.get(user, "/api/v1/tasks"), 403)
                self.fails(self.get(user, f"/api/v1/tasks/{self.delivery.pk}"), 403)
                self.fails(self.post(user, f"/api/v1/tasks/{self.delivery.pk}/take"), 403)
                self.fails(self.get(user, "/api/v1/figures/volunteer-hours"), 403)
        self.fails(self.get(None, "/api/v1/tasks"), 401)
        self.assertEqual(self.task().status, TaskStatus.OPEN)

    def test_it_counts_team_hours(self) -> None:
        with scopes_disabled():
            team = actions.team_save(
                actor=self.carol,
                community=self.community,
                name="送菜队",
                kind="service_team",
                members=[self.vera.user],
            )
            actions.task_take(volunteer=self.vera, task=self.delivery)
            actions.task_start(actor=self.vera.user, task=self.delivery)
            actions.stop_left_at_door(actor=self.vera.user, stop=self.stop())
        rows = self.get(self.carol, "/api/v1/figures/team-hours").json()["items"]
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["id"], rows[0]["tasks"]), (team.pk, 1))
        self.assertGreater(rows[0]["minutes"], 0)


def bearer_for(case: ApiTestCase, user: User) -> dict[str, str]:
    case.get(user, "/api/v1/me")  # issues and keeps a token
    return {"Authorization": f"Bearer {case.tokens[user.pk]}"}
