"""Care-call coverage per grid per day (planned, reached, not reached, escalated, %), on a
page and as an Excel workbook."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from linli.care.access import can_see_care, visible_check_ins
from linli.care.figures import CoverageRow, coverage
from linli.care.forms import CoverageFilterForm
from linli.lib.limits import limited
from linli.registry.access import request_user, require
from linli.registry.spreadsheets import XLSX_CONTENT_TYPE, safe_cell

DEFAULT_DAYS = 7


def _range(form: CoverageFilterForm) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    data = form.cleaned_data if form.is_valid() else {}
    until = data.get("until") or today
    since = data.get("since") or until - dt.timedelta(days=DEFAULT_DAYS - 1)
    return since, until


@require(can_see_care)
def coverage_page(request: HttpRequest) -> HttpResponse:
    form = CoverageFilterForm(request.GET)
    since, until = _range(form)
    rows = (
        coverage(visible_check_ins(request_user(request)), since, until) if form.is_valid() else []
    )
    context = {
        "form": form,
        "since": since,
        "until": until,
        "days": [r for r in rows if r.day is not None],
        "totals": [r for r in rows if r.day is None],
        "query": request.GET.urlencode(),
    }
    return render(request, "care/coverage.html", context, status=200 if form.is_valid() else 400)


def coverage_workbook(rows: list[CoverageRow], since: dt.date, until: dt.date) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101
    sheet.title = _("回访覆盖")
    sheet.append([_("统计区间"), f"{since.isoformat()} — {until.isoformat()}"])
    sheet.append(
        [_("日期"), _("网格"), _("应回访"), _("已联系上"), _("未联系上"), _("已升级"), _("联系率%")]
    )
    for row in rows:
        sheet.append(
            [
                safe_cell(value)
                for value in (
                    row.day.isoformat() if row.day else _("合计"),
                    row.grid,
                    row.planned,
                    row.reached,
                    row.not_reached,
                    row.escalated,
                    row.percent if row.percent is not None else "",
                )
            ]
        )
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 16
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@require(can_see_care)
@limited("LINLI_EXPORT_RATE")
def coverage_export(request: HttpRequest) -> HttpResponse:
    form = CoverageFilterForm(request.GET)
    if not form.is_valid():
        return coverage_page(request)
    since, until = _range(form)
    rows = coverage(visible_check_ins(request_user(request)), since, until)
    filename = _("关爱回访覆盖_%(since)s_%(until)s.xlsx") % {
        "since": since.isoformat(),
        "until": until.isoformat(),
    }
    response = HttpResponse(coverage_workbook(rows, since, until), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response
