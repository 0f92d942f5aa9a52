"""Hours per volunteer and team, and tasks done by kind per day, for the user's area."""

from __future__ import annotations

import datetime as dt
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
from linli.workforce.access import can_dispatch, visible_tasks, visible_teams
from linli.workforce.figures import (
    DayRow,
    HoursRow,
    done_by_day_and_kind,
    hours_by_team,
    hours_by_volunteer,
)
from linli.workforce.forms import FiguresFilterForm

DEFAULT_DAYS = 7


@dataclass(frozen=True)
class Figures:
    since: dt.date
    until: dt.date
    volunteers: list[HoursRow]
    teams: list[HoursRow]
    days: list[DayRow]

    @property
    def total_minutes(self) -> int:
        return sum(row.minutes for row in self.volunteers)

    @property
    def total_tasks(self) -> int:
        return sum(row.tasks for row in self.volunteers)


def _midnight(day: dt.date) -> dt.datetime:
    """The start of a Shanghai calendar day, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def figures_for(user: User, since: dt.date, until: dt.date) -> Figures:
    """Done tasks finished from `since` through `until` (Shanghai days, both included)."""
    tasks = visible_tasks(user).filter(finished_at__lt=_midnight(until + dt.timedelta(days=1)))
    start = _midnight(since)
    return Figures(
        since=since,
        until=until,
        volunteers=hours_by_volunteer(tasks, start),
        teams=hours_by_team(visible_teams(user), tasks, start),
        days=done_by_day_and_kind(tasks, start),
    )


def _range(form: FiguresFilterForm) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    data = form.cleaned_data if form.is_valid() else {}
    until = data.get("until") or today
    since = data.get("since") or until - dt.timedelta(days=DEFAULT_DAYS - 1)
    return since, until


@require(can_dispatch)
def figures(request: HttpRequest) -> HttpResponse:
    form = FiguresFilterForm(request.GET)
    since, until = _range(form)
    context = {
        "form": form,
        "figures": figures_for(request_user(request), since, until),
        "query": request.GET.urlencode(),
    }
    status = 200 if form.is_valid() else 400
    return render(request, "workforce/figures.html", context, status=status)


@require(can_dispatch)
def figures_export(request: HttpRequest) -> HttpResponse:
    """The same three tables as an Excel workbook."""
    form = FiguresFilterForm(request.GET)
    if not form.is_valid():
        since, until = _range(form)
        context = {"form": form, "figures": figures_for(request_user(request), since, until)}
        return render(request, "workforce/figures.html", context, status=400)
    since, until = _range(form)
    data = figures_workbook(figures_for(request_user(request), since, until))
    filename = _("志愿服务时长_%(since)s_%(until)s.xlsx") % {
        "since": since.isoformat(),
        "until": until.isoformat(),
    }
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response


def figures_workbook(figures: Figures) -> bytes:
    workbook = openpyxl.Workbook()
    sheets = [
        (
            _("志愿者时长"),
            [_("志愿者"), _("完成任务"), _("服务时长（小时）")],
            [[row.name, row.tasks, row.hours] for row in figures.volunteers],
        ),
        (
            _("队伍时长"),
            [_("队伍"), _("完成任务"), _("服务时长（小时）")],
            [[row.name, row.tasks, row.hours] for row in figures.teams],
        ),
        (
            _("每日完成"),
            [_("日期"), _("类型"), _("完成任务"), _("服务时长（小时）")],
            [[row.day, row.kind_label, row.tasks, row.hours] for row in figures.days],
        ),
    ]
    for index, (title, header, rows) in enumerate(sheets):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = title
        sheet.append([_("统计区间"), f"{figures.since.isoformat()} — {figures.until.isoformat()}"])
        sheet.append(header)
        for row in rows:
            sheet.append([safe_cell(value) for value in row])
        sheet.column_dimensions["A"].width = 20
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
