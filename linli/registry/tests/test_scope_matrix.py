"""The scope matrix: every URL the resolver knows × every role × GET/POST.

For each persona, residents outside their area must never appear in a response and must
never be changed, whatever ids are put into the URL. New URLs join the matrix by themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.registry.models import CareTagAssignment, EmergencyContact, Resident
from linli.test import BaseTestCase

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")

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


def fill(route: str, value: Any) -> str | None:
    """The route with every parameter set to `value`; None for regex routes we cannot fill."""
    if "(?P<" in route or "\\" in route:
        return None

    def replace(match: re.Match[str]) -> str:
        return str(value)

    return "/" + PARAM.sub(replace, route)


class ScopeMatrixTests(BaseTestCase):
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
        self, user: User | None, method: str, url: str, response: Any, outside: list[Resident]
    ) -> None:
        where = f"{user.username if user else 'anonymous'} {method} {url}"
        self.assertLess(response.status_code, 500, where)
        body = b"".join(response) if response.streaming else response.content
        text = body.decode("utf-8", errors="replace")
        for resident in outside:
            self.assertNotIn(resident.name, text, where)
            self.assertNotIn(resident.id_number, text, where)
            self.assertNotIn(resident.phone, text, where)

    def run_matrix(self, user: User | None) -> None:
        """Every URL × GET and POST (and PUT/PATCH for the API) as `user`."""
        routes = [
            route
            for route in sorted(set(all_routes()))
            if not route.startswith(("static/", "media/", "i18n/")) and route != "logout/"
        ]
        self.assertGreater(len(routes), 15)
        with scopes_disabled():
            before = self._snapshot()
        outside = self._outside(user)
        values: set[Any] = {"x"}
        for resident in outside:
            values |= self._ids_for(resident)
        urls = sorted({url for route in routes for v in values if (url := fill(route, v))})
        headers: dict[str, str] = {}
        if user is not None:
            self.client.force_login(user)
            headers["Authorization"] = f"Bearer {ApiToken.issue(user)}"
        for url in urls:
            response = self.client.get(url, headers=headers)
            self._check(user, "GET", url, response, outside)
            if url.startswith("/api/"):
                for method in (self.client.post, self.client.put, self.client.patch):
                    response = method(
                        url,
                        data=json.dumps(HOSTILE_FORM),
                        content_type="application/json",
                        headers=headers,
                    )
                    self._check(user, "WRITE", url, response, outside)
            else:
                response = self.client.post(url, HOSTILE_FORM, headers=headers)
                self._check(user, "POST", url, response, outside)
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

    # One test per persona, so that parallel test workers can share the matrix.
    def test_it_holds_for_a_grid_worker(self) -> None:
        self.run_matrix(self.alice)

    def test_it_holds_for_community_staff(self) -> None:
        self.run_matrix(self.carol)

    def test_it_holds_for_a_hotline_operator(self) -> None:
        self.run_matrix(self.olivia)

    def test_it_holds_for_a_street_admin(self) -> None:
        self.run_matrix(self.dave)

    def test_it_holds_for_a_checkpoint_keeper(self) -> None:
        self.run_matrix(self.kate)

    def test_it_holds_for_a_volunteer(self) -> None:
        self.run_matrix(self.victor)

    def test_it_holds_for_a_supplier(self) -> None:
        self.run_matrix(self.sam)

    def test_it_holds_for_a_resident(self) -> None:
        self.run_matrix(self.rita_user)

    def test_it_holds_for_an_account_with_no_role(self) -> None:
        self.run_matrix(self.oscar)

    def test_it_holds_for_anonymous_visitors(self) -> None:
        self.run_matrix(None)
