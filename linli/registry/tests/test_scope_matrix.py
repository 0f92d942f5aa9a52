"""The scope matrix: every URL the resolver knows × every role × GET/POST.

For each persona, residents outside their area must never appear in a response and must
never be changed, whatever ids are put into the URL. New URLs join the matrix by themselves.

The world also holds the field work of issue 3 (a verified volunteer on a delivery task to
张建国's door, a checkpoint kate keeps, goods, a courier, a shift, a team, a message), and
its ids go into the URLs too, so that those pages and endpoints answer with real objects.
A volunteer's and a supplier's responses must never contain any resident's ID number, full
phone number, care tag (code or label) or health conditions: every response is scanned.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterator
from typing import Any

from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.care import actions as care
from linli.care.models import CheckIn
from linli.checkpoints import actions as checkpoints
from linli.checkpoints.models import Checkpoint
from linli.hotline import actions as hotline
from linli.hotline.models import Ticket
from linli.lib.identity import compose_id_number
from linli.passes import actions as passes
from linli.registry import actions as registry
from linli.registry.choices import CareTag
from linli.registry.models import CareProfile, CareTagAssignment, EmergencyContact, Gate, Resident
from linli.test import PASSWORD, BaseTestCase
from linli.wishes import actions as wishes
from linli.workforce import actions as workforce
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task, TaskStop, Volunteer

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")

# Routes of issue 3 (volunteers, teams, the task board, checkpoints, goods, messages).
FIELD_ROUTES = re.compile(
    r"volunteer|team|task|stop|figure|checkpoint|compound|gate|shift|courier|goods|"
    r"message|^my/|join/|"
    # issues 5 and 6
    r"ticket|hotline|pass|care|check-in|plan|wish|^w/"
)

# Posted to every URL: enough to pass most forms if a check were missing.
HOSTILE_FORM = {
    "name": "篡改",
    "room": "999",
    "notes": "篡改",
    "relation": "head",
    "living_status": "moved_out",
    "field": "id_number",
    "reason": "越权测试",
    "tags": "dibao",
    "community": "yangguang",
    "confirm": "1",
}


def _route_of(pattern: URLPattern | URLResolver) -> str:
    return str(pattern.pattern)


def all_routes(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = ""
) -> Iterator[str]:
    """Every route template the resolver knows, e.g. 'residents/<int:pk>/'."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + _route_of(pattern).lstrip("^").rstrip("$").replace("\\Z", "")
        if isinstance(pattern, URLResolver):
            yield from all_routes(list(pattern.url_patterns), route)
        else:
            yield route


@functools.cache
def api_write_methods() -> dict[str, set[str]]:
    """The write methods the OpenAPI document lists per API path template ('/api/v1/x/{id}').

    Sending a method a path does not have can only earn a 405, so the matrix skips it."""
    from linli.api import api

    schema = api.get_openapi_schema()
    return {
        path: {method for method in operations if method in ("post", "put", "patch", "delete")}
        for path, operations in schema["paths"].items()
    }


def template_of(route: str) -> str:
    """'api/v1/tasks/<int:task_id>' → '/api/v1/tasks/{task_id}' (the OpenAPI path)."""
    return "/" + PARAM.sub(lambda m: "{" + m.group("name") + "}", route)


def fill(route: str, value: Any) -> str | None:
    """The route with every parameter set to `value`; None for regex routes we cannot fill."""
    if "(?P<" in route or "\\" in route:
        return None

    def replace(match: re.Match[str]) -> str:
        return str(value)

    return "/" + PARAM.sub(replace, route)


# How many of the ids each route gets on PostgreSQL (see _values_worth_sending).
POSTGRES_IDS_PER_ROUTE = 2


def _values_worth_sending(route: str, values: set[Any], index: int) -> list[Any]:
    """The values of `values` worth putting into `route`.

    "x" only where a parameter takes text: an <int:…> route never resolves with it, so the
    resolver's 404 would test Django, not us. On PostgreSQL, which runs the matrix again to
    catch SQL that only PostgreSQL refuses, each route gets POSTGRES_IDS_PER_ROUTE of the
    ids, taken in turn so that every id still reaches routes of every app: which id a
    route is refused for does not depend on the database, and SQLite sends every id to
    every route. (The matrix is a third of CI's time; this halves it on PostgreSQL.)
    """
    params = PARAM.findall(route)
    text_param = any(converter in ("", "str", "slug", "path") for converter, _ in params)
    ids = sorted(v for v in values if v != "x")
    if params and connection.vendor == "postgresql" and len(ids) > POSTGRES_IDS_PER_ROUTE:
        start = index % len(ids)
        ids = (ids + ids)[start : start + POSTGRES_IDS_PER_ROUTE]
    return (["x"] if text_param or not params else []) + ids


class ScopeMatrixTests(BaseTestCase):
    field_volunteer: Volunteer
    delivery: Task
    checkpoint: Checkpoint
    world_ids: set[int]
    care_ids: set[int]
    ticket: Ticket

    @classmethod
    def setUpClass(cls) -> None:
        # Start every id sequence just past the rows the table holds, as SQLite does: on
        # PostgreSQL the earlier tests' ids would otherwise spread the world's ids apart, and
        # every distinct id is one more pass over every URL (a third of the run's time).
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                cursor.execute(sql)
        super().setUpClass()

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.build_field_work()

    @classmethod
    def build_field_work(cls) -> None:
        """Issue 3's objects, made through the real actions, for the URLs to hit."""
        registry.care_profile_save(
            actor=cls.root,
            resident=cls.li,
            care=registry.CareInput(tags=[CareTag.DIALYSIS], conditions="尿毒症"),
        )
        compound = cls.unit1.building.compound
        gate = Gate.objects.create(compound=compound, name="东门")
        cls.checkpoint = checkpoints.checkpoint_save(
            actor=cls.carol,
            compound=compound,
            name="1号卡口",
            gates=[gate],
            buildings=[cls.unit1.building, cls.unit2.building],
            keepers=[cls.kate],
        )
        goods = checkpoints.goods_receive(
            actor=cls.kate, checkpoint=cls.checkpoint, sender="盒马", count=20
        )
        courier = checkpoints.courier_log(
            actor=cls.kate,
            checkpoint=cls.checkpoint,
            name="顺丰骑手",
            phone="13600001111",
            health_code="green",
            test_checked=True,
            parcels=3,
            accepted=True,
        )
        tomorrow = timezone.now() + dt.timedelta(days=1)
        shift = checkpoints.shift_create(
            actor=cls.carol,
            checkpoint=cls.checkpoint,
            starts_at=tomorrow,
            ends_at=tomorrow + dt.timedelta(hours=4),
            needed=2,
        )
        # A volunteer of their own (victor stays the volunteer account with no record).
        cls.field_volunteer = workforce.volunteer_signup(
            community=cls.community,
            data=workforce.SignupInput(
                name="韦拉",
                phone="13700001111",
                id_number=compose_id_number("110101", dt.date(1990, 5, 4), 700),
                password=PASSWORD,
                skills=["driver"],
            ),
        )
        workforce.volunteer_review(
            actor=cls.carol, volunteer=cls.field_volunteer, status="verified"
        )
        team = workforce.team_save(
            actor=cls.carol,
            community=cls.community,
            name="1号卡口临时党支部",
            kind="party_branch",
            leader=cls.carol,
            members=[cls.field_volunteer.user],
            buildings=[cls.unit1.building],
        )
        checkpoints.checkpoint_save(
            actor=cls.carol,
            compound=compound,
            name="1号卡口",
            gates=[gate],
            buildings=[cls.unit1.building, cls.unit2.building],
            keepers=[cls.kate],
            team=team,
            checkpoint=cls.checkpoint,
        )
        households = [cls.zhang.household, cls.li.household]
        cls.delivery = workforce.task_create(
            actor=cls.carol,
            community=cls.community,
            kind=TaskKind.DELIVERY_BUNDLE,
            title="送菜到户",
            stops=[workforce.StopInput(household=h, items="蔬菜包×1") for h in households],
        )
        workforce.task_take(volunteer=cls.field_volunteer, task=cls.delivery)
        workforce.task_start(actor=cls.field_volunteer.user, task=cls.delivery)  # a message
        open_task = workforce.task_create(
            actor=cls.carol,
            community=cls.community,
            kind=TaskKind.DELIVERY_BUNDLE,
            title="待领取的送菜",
            stops=[workforce.StopInput(household=cls.zeng.household)],
        )
        cls.build_care_work()
        cls.world_ids = {
            *cls.care_ids,
            cls.field_volunteer.pk,
            cls.delivery.pk,
            open_task.pk,
            *TaskStop.objects.filter(task__in=[cls.delivery, open_task]).values_list(
                "pk", flat=True
            ),
            cls.checkpoint.pk,
            goods.pk,
            courier.pk,
            shift.pk,
            team.pk,
            compound.pk,
            gate.pk,
        }

    @classmethod
    def build_care_work(cls) -> None:
        """Issues 5 and 6: a critical ticket for 张建国 with a medical pass, a care plan for
        李 (on the register), and a wish from 张's household in a published batch."""
        cls.ticket = hotline.ticket_create(
            cls.olivia,
            hotline.TicketInput(
                community=cls.community,
                channel="phone",
                description="我父亲心绞痛发作，需要送医",
                resident=cls.zhang,
                household=cls.zhang.household,
            ),
        )
        now = timezone.now()
        medical_pass = passes.pass_issue(
            actor=cls.olivia,
            data=passes.PassInput(
                resident=cls.zhang,
                reason="medical",
                destination="市第一人民医院",
                valid_from=now,
                valid_until=now + dt.timedelta(hours=6),
                ticket=cls.ticket,
            ),
        )
        plan = care.plan_save(actor=cls.carol, resident=cls.li, data=care.PlanInput())
        check_ins = CheckIn.objects.filter(plan=plan).values_list("pk", flat=True)
        wish = wishes.wish_collect(
            actor=cls.carol,
            data=wishes.WishInput(
                household=cls.zhang.household, recipient="一位独居老人", item="围巾和手套"
            ),
        )
        wishes.wish_approve(actor=cls.carol, wish=wish)
        batch = wishes.batch_create(
            actor=cls.carol,
            community=cls.community,
            title="冬日微心愿",
            deliver_by=timezone.localdate() + dt.timedelta(days=7),
        )
        wishes.batch_add(actor=cls.carol, batch=batch, wishes=[wish])
        wishes.batch_publish(actor=cls.carol, batch=batch)
        cls.care_ids = {cls.ticket.pk, medical_pass.pk, plan.pk, *check_ins, wish.pk, batch.pk}

    def _personal_texts(self) -> list[str]:
        """What a volunteer or supplier must never be shown about any resident."""
        texts: list[str] = []
        for resident in Resident.objects.all():
            texts += [resident.id_number, resident.phone]
        labels = dict(CareTag.choices)
        for tag in set(CareTagAssignment.objects.values_list("tag", flat=True)):
            texts += [tag, str(labels[tag])]
        texts += [p.conditions for p in CareProfile.objects.exclude(conditions="")]
        texts += list(Ticket.objects.values_list("description", flat=True))
        return [t for t in texts if t]

    def _snapshot(self) -> dict[int, tuple[Any, ...]]:
        return {
            r.pk: (
                r.name,
                r.household_id,
                r.living_status,
                r.updated_at,
                r.id_number,
                r.phone,
                tuple(CareTagAssignment.objects.filter(resident=r).values_list("tag", flat=True)),
                EmergencyContact.objects.filter(resident=r).count(),
            )
            for r in Resident.objects.all()
        }

    def _outside(self, user: User | None) -> list[Resident]:
        everyone = [self.zhang, self.zeng, self.li, self.wang, self.zhao, self.far]
        visible: set[int] = set()
        if user is None:
            pass
        elif user == self.alice:
            visible = {self.zhang.pk, self.zeng.pk}
        elif user in (self.carol, self.olivia):
            visible = {self.zhang.pk, self.zeng.pk, self.li.pk, self.wang.pk}
        elif user == self.dave:
            visible = {self.zhang.pk, self.zeng.pk, self.li.pk, self.wang.pk, self.zhao.pk}
        elif user == self.rita_user:
            visible = {self.zeng.pk}
        return [r for r in everyone if r.pk not in visible]

    def _ids_for(self, resident: Resident) -> set[int]:
        household = resident.household
        return {resident.pk, household.pk, household.unit_id, household.unit.building_id}

    def _check(
        self,
        user: User | None,
        method: str,
        url: str,
        response: Any,
        outside: list[Resident],
        never: list[str],
    ) -> str:
        where = f"{user.username if user else 'anonymous'} {method} {url}"
        self.assertLess(response.status_code, 500, where)
        body = b"".join(response) if response.streaming else response.content
        text = body.decode("utf-8", errors="replace")
        for resident in outside:
            self.assertNotIn(resident.name, text, where)
            self.assertNotIn(resident.id_number, text, where)
            self.assertNotIn(resident.phone, text, where)
        if url != "/api/v1/openapi.json":  # the schema lists every tag code as a choice
            for secret in never:
                self.assertFalse(secret in text, f"{where} shows {secret!r}")
        return text

    def run_matrix(
        self, user: User | None, *, field_worker: bool = False, reach: tuple[str, ...] = ()
    ) -> dict[str, str]:
        """Every URL × GET and POST (and PUT/PATCH for the API) as `user`.

        A field worker (volunteer) or supplier is also held to never seeing any resident's
        numbers, care tags or conditions. Returns the bodies of the GETs answered 200.
        """
        routes = [
            route
            for route in sorted(set(all_routes()))
            if not route.startswith(("static/", "media/", "i18n/")) and route != "logout/"
        ]
        self.assertGreater(len(routes), 15)
        with scopes_disabled():
            before = self._snapshot()
            never = self._personal_texts() if field_worker else []
        outside = self._outside(user)
        values: set[Any] = {"x"}
        for resident in outside:
            values |= self._ids_for(resident)
        # The field-work ids only where they can name something (on PostgreSQL they need
        # not coincide with the residents' ids, and every extra value costs a pass).
        field_values = values | self.world_ids
        answered: dict[str, str] = {}
        writes = api_write_methods()  # built once per process: the schema takes seconds
        methods_of: dict[str, set[str]] = {}
        # The admin site turns away everyone but staff before it reads an id: one value
        # per admin route is enough (it had a third of the matrix's URLs).
        admin_values = {min(values - {"x"}, default="x")}
        for index, route in enumerate(routes):
            if route.startswith("admin/"):
                candidates = admin_values
            else:
                candidates = field_values if FIELD_ROUTES.search(route) else values
            for v in _values_worth_sending(route, candidates, index):
                if url := fill(route, v):
                    methods_of.setdefault(url, set()).update(writes.get(template_of(route), set()))
        for url in reach:  # pages the caller checks for below, whatever ids were sampled
            methods_of.setdefault(url, set())
        urls = sorted(methods_of)
        # The OpenAPI paths matched the resolver's routes (else no write would be sent).
        self.assertGreater(sum(len(m) for m in methods_of.values()), 60)
        headers: dict[str, str] = {}
        if user is not None:
            self.client.force_login(user)
            headers["Authorization"] = f"Bearer {ApiToken.issue(user)}"
        for url in urls:
            response = self.client.get(url, headers=headers)
            text = self._check(user, "GET", url, response, outside, never)
            if response.status_code == 200:
                answered[url] = text
            if url.startswith("/api/"):
                # Revoking one's own token would turn every later API request into a 401.
                skip = {"delete"} if url == "/api/v1/auth/token" else set()
                for name in sorted(methods_of[url] - skip):
                    method = getattr(self.client, name)
                    response = method(
                        url,
                        data=json.dumps(HOSTILE_FORM),
                        content_type="application/json",
                        headers=headers,
                    )
                    self._check(user, "WRITE", url, response, outside, never)
            else:
                response = self.client.post(url, HOSTILE_FORM, headers=headers)
                self._check(user, "POST", url, response, outside, never)
            if user is not None and "_auth_user_id" not in self.client.session:
                self.client.force_login(user)  # a POST to a logout URL (the admin's)
        self.assertGreater(len(urls), 50)
        with scopes_disabled():
            after = self._snapshot()
        for resident in outside:
            self.assertEqual(after[resident.pk], before[resident.pk], f"{user} changed {resident}")
        revealed = LogEntry.objects.filter(
            action=LogEntry.Action.ACCESS,
            actor=user,
            content_type=ContentType.objects.get_for_model(Resident),
            object_pk__in=[str(r.pk) for r in outside],
        )
        self.assertFalse(revealed.exists(), f"{user} revealed someone outside their area")
        return answered

    # One test per persona, so that parallel test workers can share the matrix.
    def test_it_holds_for_a_grid_worker(self) -> None:
        self.run_matrix(self.alice)

    def test_it_holds_for_community_staff(self) -> None:
        self.run_matrix(self.carol)

    def test_it_holds_for_a_hotline_operator(self) -> None:
        self.run_matrix(self.olivia)

    def test_it_holds_for_a_street_admin(self) -> None:
        self.run_matrix(self.dave)

    def test_it_holds_for_a_volunteer(self) -> None:
        self.run_matrix(self.victor, field_worker=True)

    def test_it_holds_for_a_volunteer_on_a_delivery(self) -> None:
        """Issue 3: the volunteer sees their task's addresses, never a number or a care tag."""
        task_url = f"/api/v1/tasks/{self.delivery.pk}"
        volunteer_url = f"/api/v1/volunteers/{self.field_volunteer.pk}"
        answered = self.run_matrix(
            self.field_volunteer.user, field_worker=True, reach=(task_url, volunteer_url)
        )
        # The scan read real answers: their own record and task, with the doors on it.
        task = answered.get(task_url, "")
        self.assertIn(self.zhang.household.address, task)
        self.assertIn('"door_code": null', task)
        self.assertIn(volunteer_url, answered)

    def test_it_holds_for_a_supplier(self) -> None:
        self.run_matrix(self.sam, field_worker=True)

    def test_it_holds_for_a_checkpoint_keeper(self) -> None:
        paths = tuple(
            f"/api/v1/checkpoints/{self.checkpoint.pk}{tail}"
            for tail in ("", "/goods", "/couriers", "/shifts")
        )
        answered = self.run_matrix(self.kate, reach=paths)
        # Her checkpoint answers for real (else the matrix would scan nothing but 404s).
        for path in paths:
            self.assertIn(path, answered)

    def test_it_holds_for_a_resident(self) -> None:
        self.run_matrix(self.rita_user)

    def test_it_holds_for_an_account_with_no_role(self) -> None:
        self.run_matrix(self.oscar)

    def test_it_holds_for_anonymous_visitors(self) -> None:
        self.run_matrix(None)
