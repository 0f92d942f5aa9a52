"""Personal numbers at rest: encrypted in the table, findable only through the blind index."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.db import connection
from django.urls import reverse

from linli.test import BaseTestCase


class EncryptionAtRestTests(BaseTestCase):
    def test_it_keeps_no_plaintext_id_or_phone_in_the_tables(self) -> None:
        people = [self.zhang, self.zeng, self.li, self.wang, self.zhao, self.far]
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number, phone, id_number_index FROM registry_resident")
            rows = cursor.fetchall()
            cursor.execute("SELECT phone FROM registry_emergencycontact")
            rows += cursor.fetchall()
            cursor.execute("SELECT conditions FROM registry_careprofile")
            rows += cursor.fetchall()
        raw = repr(rows)
        self.assertGreaterEqual(len(rows), len(people))
        for person in people:
            self.assertNotIn(person.id_number, raw)
            self.assertNotIn(person.phone, raw)
            self.assertNotIn(person.id_number[-8:], raw)
        self.assertNotIn("高血压", raw)
        self.assertTrue(all(row[0].startswith("gAAAA") for row in rows[: len(people)]))

    def test_it_keeps_no_plaintext_in_the_audit_history(self) -> None:
        self.login(self.alice)
        self.client.post(
            reverse("registry:resident_edit", args=[self.zhang.pk]),
            {
                "name": "张建国",
                "phone": "13800001111",
                "relation": "head",
                "living_status": "living_here",
            },
        )
        history = repr(list(LogEntry.objects.values_list("changes", "serialized_data")))
        for person in (self.zhang, self.zeng, self.li):
            self.assertNotIn(person.id_number, history)
            self.assertNotIn(person.phone, history)
        self.assertNotIn("13800001111", history)
        self.assertNotIn("高血压", history)

    def test_it_finds_a_resident_by_whole_phone_through_the_index(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("registry:resident_list"), {"q": "13712345678"})
        self.assertContains(response, "李秀英")
        self.assertNotContains(response, "张建国")
