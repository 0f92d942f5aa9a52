"""Wish figures for the user's area (or one batch): by status, time until all were
claimed, and claimers by work unit; as a page and an Excel workbook."""

from __future__ import annotations

import io
from dataclasses import dataclass

import openpyxl
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.registry.access import request_user, require
from linli.registry.spreadsheets import XLSX_CONTENT_TYPE, safe_cell
from linli.wishes import figures as numbers
from linli.wishes.access import can_see_wishes, visible_batches, visible_wishes
from linli.wishes.forms import FiguresFilterForm
from linli.wishes.models import Claimer, WishBatch
from linli.wishes.views.wishes import settle_for


@dataclass(frozen=True)
class Figures:
    batch: WishBatch | None
    statuses: list[numbers.StatusRow]
    batches: list[numbers.BatchRow]
    units: list[numbers.UnitRow]

    @property
    def total(self) -> int:
        return sum(row.wishes for row in self.statuses)


def figures_for(user: User, batch: WishBatch | None) -> Figures:
    settle_for(user)
    wishes = visible_wishes(user)
    batches = visible_batches(user)
    # Claimers are counted for anyone who sees wishes: the figure names units, not people.
    claimers = Claimer.objects.filter(batch__in=batches)
    if batch is not None:
        wishes = wishes.filter(batch=batch)
        batches = batches.filter(pk=batch.pk)
        claimers = claimers.filter(batch=batch)
    return Figures(
        batch=batch,
        statuses=numbers.by_status(wishes),
        batches=numbers.batch_timing(batches),
        units=numbers.by_work_unit(claimers),
    )


def _form_and_batch(request: HttpRequest) -> tuple[FiguresFilterForm, WishBatch | None]:
    user = request_user(request)
    form = FiguresFilterForm(request.GET, batches=visible_batches(user))
    batch = form.cleaned_data.get("batch") if form.is_valid() else None
    return form, batch


@require(can_see_wishes)
def figures(request: HttpRequest) -> HttpResponse:
    form, batch = _form_and_batch(request)
    context = {
        "form": form,
        "figures": figures_for(request_user(request), batch),
        "query": request.GET.urlencode(),
    }
    return render(request, "wishes/figures.html", context, status=200 if form.is_valid() else 400)


@require(can_see_wishes)
def figures_export(request: HttpRequest) -> HttpResponse:
    form, batch = _form_and_batch(request)
    if not form.is_valid():
        context = {"form": form, "figures": figures_for(request_user(request), None)}
        return render(request, "wishes/figures.html", context, status=400)
    data = figures_workbook(figures_for(request_user(request), batch))
    filename = _("微心愿统计_%(day)s.xlsx") % {"day": timezone.localdate().isoformat()}
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response


def _when(value: object) -> object:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""  # type: ignore[arg-type]


def figures_workbook(figures: Figures) -> bytes:
    workbook = openpyxl.Workbook()
    sheets = [
        (
            _("按状态"),
            [_("状态"), _("心愿数"), _("估计价值（元）")],
            [[r.label, r.wishes, r.value_fen / 100] for r in figures.statuses],
        ),
        (
            _("认领用时"),
            [
                _("批次"),
                _("发布时间"),
                _("心愿数"),
                _("已认领"),
                _("全部认领时间"),
                _("用时（分钟）"),
            ],
            [
                [
                    r.title,
                    _when(r.published_at),
                    r.wishes,
                    r.claimed,
                    _when(r.all_claimed_at),
                    r.minutes_to_all_claimed if r.minutes_to_all_claimed is not None else "",
                ]
                for r in figures.batches
            ],
        ),
        (
            _("按工作单位"),
            [_("工作单位"), _("认领人数"), _("认领心愿"), _("已送达")],
            [[r.work_unit, r.claimers, r.wishes, r.fulfilled] for r in figures.units],
        ),
    ]
    for index, (title, header, rows) in enumerate(sheets):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        assert sheet is not None  # noqa: S101
        sheet.title = title
        sheet.append([_("范围"), figures.batch.title if figures.batch else _("全部批次")])
        sheet.append(header)
        for row in rows:
            sheet.append([safe_cell(value) for value in row])
        sheet.column_dimensions["A"].width = 24
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
