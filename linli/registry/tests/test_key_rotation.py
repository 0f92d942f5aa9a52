"""Rotating the field keys: data written under an old key is rewritten under the new one."""

from __future__ import annotations

from io import StringIO

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_scopes import scopes_disabled

from linli.registry.models import CareProfile, Resident
from linli.test import BaseTestCase


def raw_id_numbers() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM registry_resident ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


class KeyRotationTests(BaseTestCase):
    def test_it_rewrites_everything_so_the_old_key_can_go(self) -> None:
        old_keys = list(settings.LINLI_FIELD_KEYS)
        new_key = Fernet.generate_key().decode()
        before = raw_id_numbers()
        with override_settings(
            LINLI_FIELD_KEYS=[new_key, *old_keys], LINLI_INDEX_KEY=settings.LINLI_INDEX_KEY
        ):
            out = StringIO()
            call_command("rotate-keys", stdout=out, stderr=StringIO())
            self.assertIn("registry.Resident", out.getvalue())
        after = raw_id_numbers()
        self.assertTrue(all(a != b for a, b in zip(after, before, strict=True)))
        for token in after:
            Fernet(new_key.encode()).decrypt(token.encode())  # raises if not the new key
        with override_settings(LINLI_FIELD_KEYS=[new_key]), scopes_disabled():
            zhang = Resident.objects.get(pk=self.zhang.pk)
            self.assertEqual(zhang.id_number, self.zhang.id_number)
            self.assertEqual(zhang.phone, "13812348000")
            self.assertEqual(CareProfile.objects.get(resident=zhang).conditions, "高血压")
            # The blind index still finds the resident by the whole number.
            self.assertEqual(list(Resident.objects.search(self.zhang.id_number)), [zhang])

    def test_it_rebuilds_the_blind_index_for_a_new_index_key(self) -> None:
        with override_settings(LINLI_INDEX_KEY="a-new-index-key"), scopes_disabled():
            self.assertEqual(list(Resident.objects.search(self.li.phone)), [])
            call_command("rotate-keys", "--reindex", stdout=StringIO(), stderr=StringIO())
            self.assertEqual([r.pk for r in Resident.objects.search(self.li.phone)], [self.li.pk])
