"""The SLA targets page (every category × urgency of a community; community staff edit) and
the figures page with its Excel export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from linli.hotline import actions, figures
from linli.hotline.access import can_edit_sla, can_see_figures, visible_tickets
from linli.hotline.forms import FiguresFilterForm
from linli.hotline.models import SlaTarget
from linli.registry.access import get_community_for, request_user, require, visible_communities
from linli.registry.models import Community
from linli.registry.spreadsheets import XLSX_CONTENT_TYPE
from linli.triage.choices import Category, Urgency


def _community(request: HttpRequest) -> tuple[Community, list[Community]]:
    user = request_user(request)
    communities = list(visible_communities(user).order_by("code"))
    code = request.GET.get("community") or request.POST.get("community")
    if code:
        return get_community_for(user, code), communities
    if not communities:
        raise Http404(_("您的管辖范围内没有社区"))
    return communities[0], communities


def _parse_minutes(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() else None


@require(can_see_figures)
def sla_targets(request: HttpRequest) -> HttpResponse:
    """The table of targets; community staff change any cells and save them together."""
    user = request_user(request)
    community, communities = _community(request)
    targets = actions.sla_targets_seed(community)
    errors: dict[str, list[str]] = {}
    editable = can_edit_sla(user)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("只有社区工作人员可以修改时限标准"))
        changed = 0
        try:
            with transaction.atomic():
                for target in targets:
                    key = f"{target.category}-{target.urgency}"
                    respond = _parse_minutes(request.POST.get(f"respond-{key}", ""))
                    resolve = _parse_minutes(request.POST.get(f"resolve-{key}", ""))
                    if respond is None or resolve is None:
                        errors[key] = [_("%(target)s：请填写整数分钟") % {"target": target}]
                        continue
                    if (respond, resolve) == (target.respond_minutes, target.resolve_minutes):
                        continue
                    try:
                        actions.sla_target_save(
                            actor=user,
                            community=community,
                            category=target.category,
                            urgency=target.urgency,
                            respond_minutes=respond,
                            resolve_minutes=resolve,
                        )
                        changed += 1
                    except ValidationError as e:
                        errors[key] = [f"{target}：{m}" for m in e.messages]
                if errors:
                    raise ValidationError(errors)
        except ValidationError:
            pass  # nothing saved; the table shows what was typed, with the reasons
        else:
            messages.success(request, _("已保存 %(n)d 项时限") % {"n": changed})
            return redirect(f"{request.path}?community={community.code}")
    rows = _rows(targets, request.POST if errors else None)
    context = {
        "community": community,
        "communities": communities,
        "rows": rows,
        "errors": [m for ms in errors.values() for m in ms],
        "editable": editable,
    }
    return render(request, "hotline/sla.html", context, status=400 if errors else 200)


def _rows(targets: list[SlaTarget], posted: Any) -> list[dict[str, Any]]:
    by_key = {(t.category, t.urgency): t for t in targets}
    rows = []
    for category in Category:
        cells = []
        for urgency in Urgency:
            target = by_key[(category.value, urgency.value)]
            key = f"{category.value}-{urgency.value}"
            cells.append(
                {
                    "key": key,
                    "respond": posted.get(f"respond-{key}") if posted else target.respond_minutes,
                    "resolve": posted.get(f"resolve-{key}") if posted else target.resolve_minutes,
                }
            )
        rows.append({"category": category.label, "cells": cells})
    return rows


def _figures(request: HttpRequest) -> tuple[FiguresFilterForm, figures.Figures]:
    form = FiguresFilterForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    since = data.get("since") or timezone.localdate()
    until = data.get("until") or since
    if form.errors:
        since = until = timezone.localdate()
    return form, figures.figures_for(visible_tickets(request_user(request)), since, until)


@require(can_see_figures)
def figures_page(request: HttpRequest) -> HttpResponse:
    form, data = _figures(request)
    context = {
        "form": form,
        "figures": data,
        "tables": [
            (title, first, [(row, figures.row_values(row)) for row in rows])
            for title, first, rows in figures.tables(data)
        ],
        "totals": list(zip(figures.header_labels(), figures.row_values(data.total), strict=True)),
        "header": figures.header_labels(),
    }
    return render(request, "hotline/figures.html", context, status=400 if form.errors else 200)


@require(can_see_figures)
def figures_export(request: HttpRequest) -> HttpResponse:
    form, data = _figures(request)
    if form.errors:
        return figures_page(request)
    filename = _("专线统计_%(since)s_%(until)s.xlsx") % {
        "since": data.since.isoformat(),
        "until": data.until.isoformat(),
    }
    response = HttpResponse(figures.workbook(data), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response
