"""Matching an export against the registry: the 332-resident building, visitors, a typo,
duplicates, GBK and Excel files, and importing the same file twice."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from linli.campaigns import actions, reconcile
from linli.campaigns.choices import MatchMethod, Unmatched
from linli.campaigns.models import CampaignRound, SampleImport, SampleRecord
from linli.campaigns.tests.helpers import csv_bytes, fill_building, make_round, row_of, xlsx_bytes
from linli.lib.identity import compose_id_number
from linli.registry.models import Resident
from linli.test import BaseTestCase


class ReconcileTestCase(BaseTestCase):
    residents: list[Resident]
    round: CampaignRound

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.residents = fill_building(cls.root, cls.community, "9号楼", 332)
            cls.round = make_round(cls.carol, cls.community)

    def export(self) -> list[list[str]]:
        """330 of the building's residents, 3 visitors and a typo (an ID number with a
        wrong digit, of one of the two missing, with no phone)."""
        import datetime as dt

        rows = [row_of(r, n) for n, r in enumerate(self.residents[:330], start=1)]
        for n in range(3):
            visitor_id = compose_id_number("440103", dt.date(1990, 5, 1 + n), 500 + n)
            rows.append([str(331 + n), f"访客{n}", visitor_id, f"1860000000{n}", "", "", ""])
        typo = self.residents[330].id_number
        typo = typo[:10] + str((int(typo[10]) + 1) % 10) + typo[11:]
        rows.append(["334", self.residents[330].name, typo, "", "", "", ""])
        return rows

    def import_(self, data: bytes, filename: str = "export.csv") -> SampleImport:
        with scopes_disabled():
            return actions.records_import(
                actor=self.carol, round=self.round, data=data, filename=filename
            )

    def building_missing(self) -> list[Resident]:
        with scopes_disabled():
            return list(
                reconcile.missing_residents(self.round).filter(
                    household__unit__building=self.residents[0].household.unit.building
                )
            )


class BuildingOf332Tests(ReconcileTestCase):
    def test_it_leaves_exactly_the_two_missing_on_the_sweep_list(self) -> None:
        batch = self.import_(csv_bytes(self.export()))
        self.assertEqual(batch.rows, 334)
        self.assertEqual(batch.added, 334)
        self.assertEqual(batch.matched_id, 330)
        self.assertEqual(batch.matched_name_phone, 0)
        self.assertEqual(batch.unmatched, 4)
        self.assertEqual(batch.duplicates, 0)
        self.assertEqual(
            [r.pk for r in self.building_missing()], [r.pk for r in self.residents[330:]]
        )
        with scopes_disabled():
            unmatched = SampleRecord.objects.filter(round=self.round, resident__isnull=True)
            reasons = sorted(unmatched.values_list("unmatched_reason", flat=True))
            typo = unmatched.get(unmatched_reason=Unmatched.INVALID_ID)
            rows = {r.label: r for r in reconcile.completion(self.round, "building")}
        self.assertEqual(reasons, [Unmatched.INVALID_ID] + [Unmatched.NOT_REGISTERED] * 3)
        # The typo is offered as "maybe 居民330" (same name), and not counted as reached.
        self.assertEqual(typo.suggestion_id, self.residents[330].pk)
        building = rows["阳光小区9号楼"]
        self.assertEqual((building.expected, building.reached, building.missing), (332, 330, 2))

    def test_it_stores_no_id_or_phone_number_in_clear(self) -> None:
        self.import_(csv_bytes(self.export()))
        with scopes_disabled():
            record = SampleRecord.objects.get(round=self.round, resident=self.residents[0])
        values = " ".join(str(v) for v in record.__dict__.values())
        self.assertNotIn(self.residents[0].id_number, values)
        self.assertNotIn(self.residents[0].phone, values)
        self.assertEqual(record.id_number_masked, self.residents[0].masked_id_number)
        self.assertEqual(record.phone_masked, self.residents[0].masked_phone)

    def test_it_changes_nothing_when_the_same_file_comes_again(self) -> None:
        data = csv_bytes(self.export())
        self.import_(data)
        with scopes_disabled():
            before = list(SampleRecord.objects.order_by("pk").values_list())
        again = self.import_(data)
        self.assertEqual((again.added, again.already), (0, 334))
        with scopes_disabled():
            self.assertEqual(list(SampleRecord.objects.order_by("pk").values_list()), before)
        self.assertEqual(len(self.building_missing()), 2)

    def test_it_reads_a_gbk_file(self) -> None:
        batch = self.import_(csv_bytes(self.export(), encoding="gbk"))
        self.assertEqual(batch.encoding, "GBK")
        self.assertEqual(batch.matched_id, 330)
        with scopes_disabled():
            self.assertTrue(SampleRecord.objects.filter(name="访客0").exists())

    def test_it_reads_an_excel_file_with_a_title_line(self) -> None:
        batch = self.import_(xlsx_bytes(self.export()), "导出.xlsx")
        self.assertEqual((batch.file_format, batch.matched_id, batch.unmatched), ("xlsx", 330, 4))
        self.assertEqual(len(self.building_missing()), 2)

    def test_it_matches_on_name_and_phone_when_the_id_is_missing(self) -> None:
        resident = self.residents[331]
        row = row_of(resident, 1)
        row[2] = ""
        batch = self.import_(csv_bytes([row]))
        self.assertEqual(batch.matched_name_phone, 1)
        with scopes_disabled():
            record = SampleRecord.objects.get(round=self.round)
        self.assertEqual((record.resident_id, record.method), (resident.pk, MatchMethod.NAME_PHONE))

    def test_it_reports_a_second_sample_of_one_resident_as_a_duplicate(self) -> None:
        first = row_of(self.residents[0], 1)
        second = row_of(self.residents[0], 2, tube="T999999")
        batch = self.import_(csv_bytes([first, second, first]))
        self.assertEqual((batch.added, batch.duplicates, batch.repeated), (2, 1, 1))

    def test_it_remembers_the_column_mapping_of_the_campaign(self) -> None:
        rows = [["A1", r.name, r.id_number] for r in self.residents[:2]]
        data = ("编号,名,证\n" + "\n".join(",".join(r) for r in rows)).encode()
        with self.assertRaises(ValidationError) as caught:
            self.import_(data)
        self.assertIn("id_number", caught.exception.message_dict)
        with scopes_disabled():
            batch = actions.records_import(
                actor=self.carol,
                round=self.round,
                data=data,
                filename="a.csv",
                mapping={"id_number": "证", "name": "名"},
            )
            self.assertEqual(batch.matched_id, 2)
            self.round.campaign.refresh_from_db()
            self.assertEqual(self.round.campaign.column_mapping, {"id_number": "证", "name": "名"})
            rows = [["A3", r.name, r.id_number] for r in self.residents[2:3]]
            data = ("编号,名,证\n" + "\n".join(",".join(r) for r in rows)).encode()
            self.assertEqual(self.import_(data).matched_id, 1)

    def test_it_refuses_a_file_it_cannot_read_and_writes_nothing(self) -> None:
        for data, name in (
            (b"", "a.csv"),
            (b"\xd0\xcf\x11\xe0junk", "a.xls"),
            (b"PKjunk", "a.xlsx"),
        ):
            with self.assertRaises(ValidationError) as caught:
                self.import_(data, name)
            self.assertIn("file", caught.exception.message_dict)
        self.assertFalse(SampleImport.objects.exists())

    def test_it_matches_records_again_after_the_registry_changes(self) -> None:
        self.import_(csv_bytes(self.export()))
        with scopes_disabled():
            typo = SampleRecord.objects.get(round=self.round, unmatched_reason=Unmatched.INVALID_ID)
            actions.record_link(actor=self.carol, record=typo, resident=self.residents[330])
            self.assertEqual(actions.records_rematch(actor=self.carol, round=self.round), 0)
        self.assertEqual([r.pk for r in self.building_missing()], [self.residents[331].pk])
