"""The paperwork in the REST API: list, start, poll and download, with the same access rules
as the pages."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from linli.registry.tests.test_api import ApiTestCase
from linli.supply.documents import UNASSIGNED
from linli.supply.models import RoundDocument
from linli.supply.tests.test_documents import DocumentsTestCase
from linli.test import pdf_text


def body_of(response: Any) -> bytes:
    """A FileResponse's bytes."""
    return b"".join(response.streaming_content)


class DocumentsApiTest(DocumentsTestCase, ApiTestCase):
    def test_it_lists_what_a_supplier_may_have(self) -> None:
        round = self.closed_round()
        r = self.get(self.sam, f"/api/v1/rounds/{round.pk}/documents")
        self.assertEqual(r.status_code, 200, r.content)
        available = {(d["kind"], d["key"]) for d in r.json()["available"]}
        key = str(self.supplier.pk)
        self.assertEqual(available, {("pick_list", key), ("labels", key)})
        self.assertEqual(r.json()["items"], [])

    def test_it_makes_a_document_and_reports_its_progress(self) -> None:
        round = self.closed_round()
        r = self.call(
            self.dave,
            "POST",
            f"/api/v1/rounds/{round.pk}/documents",
            {"kind": "manifest", "fmt": "pdf", "key": UNASSIGNED},
        )
        self.assertEqual(r.status_code, 202, r.content)
        body = r.json()
        made = RoundDocument.objects.get(pk=body["id"])
        self.assertEqual((made.status, made.progress, made.key), ("done", 100, UNASSIGNED))
        self.assertEqual((body["status"], body["progress"]), ("done", 100))
        status = self.get(self.dave, f"/api/v1/documents/{made.pk}").json()
        self.assertEqual(status["file_url"], f"/api/v1/documents/{made.pk}/file")
        file = self.get(self.dave, status["file_url"])
        self.assertEqual(file.status_code, 200)
        self.assertEqual(file["Content-Type"], "application/pdf")
        text = pdf_text(body_of(file)).replace(" ", "")
        self.assertIn("阳光小区3号楼1单元301", text)
        listing = self.get(self.dave, f"/api/v1/rounds/{round.pk}/documents").json()
        self.assertEqual([d["id"] for d in listing["items"]], [made.pk])

    def test_it_makes_labels_as_excel_for_the_supplier(self) -> None:
        round = self.closed_round()
        r = self.call(
            self.sam,
            "POST",
            f"/api/v1/rounds/{round.pk}/documents",
            {"kind": "labels", "fmt": "xlsx", "key": str(self.supplier.pk)},
        )
        self.assertEqual(r.status_code, 202, r.content)
        file = self.get(self.sam, f"/api/v1/documents/{r.json()['id']}/file")
        rows = list(
            openpyxl.load_workbook(io.BytesIO(body_of(file))).active.iter_rows(values_only=True)
        )
        addresses = [row[0] for row in rows[2:]]
        self.assertEqual(len(addresses), 4)
        self.assertIn("阳光小区2号楼1单元201", addresses)

    def test_it_refuses_other_peoples_documents_with_404(self) -> None:
        round = self.closed_round()
        r = self.call(
            self.sam,
            "POST",
            f"/api/v1/rounds/{round.pk}/documents",
            {"kind": "pick_list", "fmt": "pdf", "key": str(self.egg_supplier.pk)},
        )
        self.assert_error(r, 404)
        r = self.call(
            self.kate,
            "POST",
            f"/api/v1/rounds/{round.pk}/documents",
            {"kind": "manifest", "fmt": "pdf", "key": str(self.north.pk)},
        )
        self.assert_error(r, 404)
        made = self.call(
            self.kate,
            "POST",
            f"/api/v1/rounds/{round.pk}/documents",
            {"kind": "manifest", "fmt": "xlsx", "key": str(self.gate.pk)},
        )
        self.assertEqual(made.status_code, 202, made.content)
        document_id = made.json()["id"]
        self.assert_error(self.get(self.sam, f"/api/v1/documents/{document_id}"), 404)
        self.assert_error(self.get(self.other_keeper, f"/api/v1/documents/{document_id}/file"), 404)
        self.assert_error(self.get(self.oscar, f"/api/v1/rounds/{round.pk}/documents"), 404)
        self.assertEqual(RoundDocument.objects.count(), 1)

    def test_it_names_the_field_of_a_bad_request(self) -> None:
        round = self.closed_round()
        r = self.call(
            self.dave,
            "POST",
            f"/api/v1/rounds/{round.pk}/documents",
            {"kind": "poster", "fmt": "pdf", "key": "1"},
        )
        self.assert_error(r, 400, kind="")
        r = self.call(
            self.dave,
            "POST",
            f"/api/v1/rounds/{round.pk}/documents",
            {"kind": "manifest", "fmt": "docx", "key": str(self.gate.pk)},
        )
        self.assert_error(r, 400, fmt="")
        self.assertFalse(RoundDocument.objects.exists())

    def test_it_refuses_a_round_not_yet_allocated(self) -> None:
        round, _veg, _rice = self.open_round()
        r = self.call(
            self.carol,
            "POST",
            f"/api/v1/rounds/{round.pk}/documents",
            {"kind": "pick_list", "fmt": "pdf", "key": str(self.supplier.pk)},
        )
        self.assert_error(r, 400, round="轮次尚未分配")
        self.assertFalse(RoundDocument.objects.exists())
