"""The staff lists cost the same number of queries for 2 rows as for 12 (no N+1)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.workforce.tests.test_actions import WorkforceTestCase


class ListQueriesTest(WorkforceTestCase):
    def queries_for(self, url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return len(queries)

    def test_it_lists_volunteers_and_tasks_in_a_fixed_number_of_queries(self) -> None:
        building = self.unit1.building
        for _ in range(2):
            volunteer = self.make_volunteer(building=building)
            self.door_task()
        self.login(self.carol)
        few = {url: self.queries_for(url) for url in ("/volunteers/", "/tasks/")}
        for _ in range(10):
            self.make_volunteer(building=building, skills=["driver"])
            self.door_task()
        many = {url: self.queries_for(url) for url in ("/volunteers/", "/tasks/")}
        self.assertEqual(many, few)
        self.assertTrue(volunteer.building)
