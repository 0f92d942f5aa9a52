"""The English catalog: all translated, none fuzzy, the .mo in step, pages in English."""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from linli.lib.identity import check_id_number, compose_id_number
from linli.test import BaseTestCase

CATALOG = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def read_catalog(path: Path) -> list[Entry]:
    """The live entries of a .po file (obsolete `#~` entries and the header left out)."""
    entries: list[Entry] = []
    entry = Entry()
    current: str | None = None
    fields: dict[str, str] = {}

    def finish() -> None:
        nonlocal entry, fields, current
        if "msgid" in fields:
            entry.msgid = fields["msgid"]
            entry.msgid_plural = fields.get("msgid_plural")
            if entry.msgid_plural is None:
                entry.msgstr = [fields.get("msgstr", "")]
            else:
                forms = sorted(k for k in fields if k.startswith("msgstr["))
                entry.msgstr = [fields[k] for k in forms]
            if entry.msgid:
                entries.append(entry)
        entry, fields, current = Entry(), {}, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert current is not None, f"continuation line without a keyword: {raw!r}"
            fields[current] += ast.literal_eval(line)
        else:
            keyword, text = line.split(" ", 1)
            current = keyword
            fields[keyword] = ast.literal_eval(text)
    finish()
    return entries


class TranslationTests(BaseTestCase):
    def test_it_translates_every_message_into_english(self) -> None:
        entries = read_catalog(CATALOG)
        self.assertGreater(len(entries), 100)
        untranslated = [e.msgid for e in entries if not all(e.msgstr)]
        fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
        self.assertEqual(untranslated, [])
        self.assertEqual(fuzzy, [])
        plurals = [e for e in entries if e.msgid_plural is not None]
        self.assertTrue(plurals)
        for e in plurals:
            self.assertEqual(len(e.msgstr), 2, e.msgid)

    def test_it_keeps_every_placeholder(self) -> None:
        for e in read_catalog(CATALOG):
            wanted = set(PLACEHOLDER.findall(e.msgid))
            for text in e.msgstr:
                self.assertEqual(set(PLACEHOLDER.findall(text)), wanted, e.msgid)

    def test_it_ships_a_compiled_catalog_in_step_with_the_po_file(self) -> None:
        with CATALOG.with_suffix(".mo").open("rb") as mo:
            compiled = gettext.GNUTranslations(mo)
        for e in read_catalog(CATALOG):
            if e.msgid_plural is None:
                self.assertEqual(compiled.gettext(e.msgid), e.msgstr[0], e.msgid)
            else:
                self.assertEqual(compiled.ngettext(e.msgid, e.msgid_plural, 1), e.msgstr[0])
                self.assertEqual(compiled.ngettext(e.msgid, e.msgid_plural, 2), e.msgstr[1])

    def test_it_explains_a_wrong_id_number_in_english(self) -> None:
        number = compose_id_number("310104", dt.date(1950, 3, 7), 123)
        wrong = number[:17] + ("0" if number[17] != "0" else "1")
        with translation.override("en"):
            self.assertEqual(check_id_number(wrong).errors, ["ID number check digit is wrong"])
        with translation.override("zh-hans"):
            self.assertEqual(check_id_number(wrong).errors, ["身份证校验位错误"])

    @override_settings(LANGUAGE_CODE="zh-hans")
    def test_it_shows_the_resident_list_in_english_after_switching(self) -> None:
        self.login(self.alice)
        response = self.client.get(reverse("registry:resident_list"))
        self.assertContains(response, "<h1>居民</h1>", html=False)
        response = self.client.post(
            reverse("set_language"), {"language": "en", "next": reverse("registry:resident_list")}
        )
        self.assertRedirects(response, reverse("registry:resident_list"))
        response = self.client.get(reverse("registry:resident_list"))
        self.assertContains(response, '<html lang="en">')
        self.assertContains(response, "<h1>Residents</h1>", html=False)
        self.assertContains(response, "Special needs")
        self.assertNotContains(response, "查询")
