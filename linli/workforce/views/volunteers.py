"""Staff pages for volunteers: the list to review, one volunteer's record, the community rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Sum, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.registry import actions as registry_actions
from linli.registry.access import (
    get_community_for,
    request_user,
    require,
    visible_communities,
)
from linli.registry.forms import add_action_errors
from linli.registry.models import Community
from linli.workforce import actions
from linli.workforce.access import (
    can_dispatch,
    can_manage_volunteers,
    get_volunteer_for,
    visible_volunteers,
)
from linli.workforce.choices import TaskStatus, TimeSlot, VolunteerStatus, Weekday
from linli.workforce.forms import (
    CommunityRulesForm,
    VolunteerFilterForm,
    VolunteerRevealForm,
    VolunteerReviewForm,
)
from linli.workforce.models import Task, Team, Volunteer


@dataclass(frozen=True)
class VolunteerRow:
    volunteer: Volunteer
    test_stale: bool
    hours: float


def negative_test_stale(volunteer: Volunteer) -> bool:
    """Under the community's rule, the latest negative test no longer counts (or is missing)."""
    if not volunteer.community.volunteer_test_required:
        return False
    expires = volunteer.test_expires_at()
    return expires is None or expires <= timezone.now()


@require(can_dispatch)
def volunteer_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = VolunteerFilterForm(request.GET)
    volunteers = visible_volunteers(user).annotate(
        done_minutes=Sum("tasks__minutes", filter=Q(tasks__status=TaskStatus.DONE)),
        pending_first=Case(
            When(status=VolunteerStatus.PENDING, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            volunteers = volunteers.filter(name__contains=data["q"].strip())
        if data["status"]:
            volunteers = volunteers.filter(status=data["status"])
        if data["skill"]:
            # JSON lists: a contains lookup is not on SQLite, so match the quoted code.
            volunteers = volunteers.filter(skills__icontains=f'"{data["skill"]}"')
        if data["party"]:
            volunteers = volunteers.filter(is_party_member=data["party"] == "yes")
    else:
        volunteers = volunteers.none()
    volunteers = volunteers.order_by("pending_first", "-created_at", "pk")
    page = Paginator(volunteers, settings.LINLI_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        VolunteerRow(v, negative_test_stale(v), round((v.done_minutes or 0) / 60, 1)) for v in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "pending": visible_volunteers(user).filter(status=VolunteerStatus.PENDING).count(),
        "can_manage": can_manage_volunteers(user),
        "communities": _rule_communities(user),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "workforce/partials/volunteer_rows.html", context)
    return render(request, "workforce/volunteer_list.html", context)


def _rule_communities(user: User) -> list[Community]:
    """The communities whose rules the user may edit (links on the list page)."""
    if not can_manage_volunteers(user):
        return []
    return list(visible_communities(user).order_by("code"))


def _detail_context(request: HttpRequest, volunteer: Volunteer) -> dict[str, Any]:
    user = request_user(request)
    tasks = (
        Task.objects.filter(volunteer=volunteer)
        .select_related("community")
        .order_by("-created_at", "-pk")
    )
    done_minutes = tasks.filter(status=TaskStatus.DONE).aggregate(m=Sum("minutes"))["m"] or 0
    slots = set(volunteer.availability)
    availability = [
        (day.label, [f"{day.value}-{slot.value}" in slots for slot in TimeSlot]) for day in Weekday
    ]
    history = (
        LogEntry.objects.get_for_object(volunteer).select_related("actor").order_by("-timestamp")
    )
    return {
        "volunteer": volunteer,
        "reasons": volunteer.ineligibility(),
        "test_stale": negative_test_stale(volunteer),
        "test_expires_at": volunteer.test_expires_at(),
        "slots": [slot.label for slot in TimeSlot],
        "availability": availability,
        "tasks": tasks[:50],
        "task_count": tasks.count(),
        "done_hours": round(done_minutes / 60, 1),
        "teams": Team.objects.filter(members=volunteer.user).select_related("leader"),
        "can_manage": can_manage_volunteers(user),
        "review_form": VolunteerReviewForm(),
        "reveal_form": VolunteerRevealForm(),
        "history": history[:30] if can_manage_volunteers(user) else [],
    }


@require(can_dispatch)
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = get_volunteer_for(request_user(request), pk)
    return render(request, "workforce/volunteer_detail.html", _detail_context(request, volunteer))


@require(can_manage_volunteers)
@require_POST
def volunteer_review(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    volunteer = get_volunteer_for(user, pk)
    form = VolunteerReviewForm(request.POST)
    if form.is_valid():
        try:
            actions.volunteer_review(
                actor=user,
                volunteer=volunteer,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            note = _("%(name)s：%(status)s") % {
                "name": volunteer.name,
                "status": volunteer.get_status_display(),
            }
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, note)
                return redirect("workforce:volunteer_detail", pk=volunteer.pk)
            context = _detail_context(request, volunteer)
            context["saved"] = note
            return render(request, "workforce/partials/volunteer_review.html", context)
    # Nothing was written: reload what the action may have touched before refusing.
    volunteer.refresh_from_db()
    context = _detail_context(request, volunteer)
    context["review_form"] = form
    template = (
        "workforce/partials/volunteer_review.html"
        if request.htmx  # type: ignore[attr-defined]
        else "workforce/volunteer_detail.html"
    )
    return render(request, template, context, status=400)


@require(can_manage_volunteers)
@require_POST
def volunteer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    volunteer = get_volunteer_for(user, pk)
    form = VolunteerRevealForm(request.POST)
    value = ""
    if form.is_valid():
        try:
            value = actions.volunteer_reveal(
                actor=user,
                volunteer=volunteer,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
    field = request.POST.get("field", "")
    if field not in ("id_number", "phone"):
        field = "phone"
    context = {
        "volunteer": volunteer,
        "form": form,
        "value": value,
        "field": field,
        "can_manage": True,
    }
    status = 200 if value or not form.errors else 400
    return render(request, "workforce/partials/volunteer_reveal.html", context, status=status)


@require(can_manage_volunteers)
def volunteer_rules(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    community = get_community_for(user, code)
    initial = {
        "volunteer_test_required": community.volunteer_test_required,
        "volunteer_test_hours": community.volunteer_test_hours,
        "goods_hold_minutes": community.goods_hold_minutes,
    }
    form = CommunityRulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            registry_actions.community_rules_set(
                actor=user, community=community, **form.cleaned_data
            )
        except ValidationError as e:
            community.refresh_from_db()
            add_action_errors(form, e)
        else:
            messages.success(request, _("%(name)s的规则已保存") % {"name": community.name})
            return redirect("workforce:volunteer_rules", code=community.code)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "workforce/rules.html", {"form": form, "community": community}, status=status
    )
