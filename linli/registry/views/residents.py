"""Residents: the searchable list, detail with masked numbers and audited reveal, the register."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.lib.limits import limited
from linli.registry import actions
from linli.registry.access import (
    can_edit_people,
    can_see_people,
    get_household_for,
    get_resident_for,
    request_user,
    require,
    visible_grids,
)
from linli.registry.forms import (
    CareForm,
    ResidentFilterForm,
    ResidentForm,
    RevealForm,
    add_action_errors,
)
from linli.registry.models import (
    CareProfile,
    CareTagAssignment,
    EmergencyContact,
    Resident,
    ResidentQuerySet,
)


def filtered_residents(user: User, params: Any) -> tuple[ResidentFilterForm, ResidentQuerySet]:
    """The resident list as the filters ask, within the user's area (shared by page and export)."""
    form = ResidentFilterForm(params, grids=visible_grids(user))
    residents: ResidentQuerySet = Resident.objects.select_related("household__grid").with_tags()
    if form.is_valid():
        data = form.cleaned_data
        residents = residents.search(data["q"] or "")
        if data["grid"]:
            residents = residents.filter(household__grid=data["grid"])
        if data["tag"]:
            residents = residents.with_tag(data["tag"])
    else:
        residents = residents.none()
    # Household order follows the registry (seeded and imported building by building) and
    # lets the database walk an index instead of sorting every row in the area.
    return form, residents.order_by("household_id", "pk")


# A printed register is the whole list on paper, not the page on screen.
PRINT_LIMIT = 5000


def _page(request: HttpRequest, queryset: QuerySet[Any]) -> Any:
    size = PRINT_LIMIT if request.GET.get("print") else settings.LINLI_PAGE_SIZE
    paginator = Paginator(queryset, size)
    return paginator.get_page(request.GET.get("page"))


@require(can_see_people)
@limited("LINLI_SEARCH_RATE")
def resident_list(request: HttpRequest) -> HttpResponse:
    form, residents = filtered_residents(request_user(request), request.GET)
    context = {"form": form, "page": _page(request, residents), "query": request.GET.urlencode()}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "registry/partials/resident_rows.html", context)
    return render(request, "registry/resident_list.html", context)


@require(can_see_people)
@limited("LINLI_SEARCH_RATE")
def register(request: HttpRequest) -> HttpResponse:
    """台账: everyone on the special-needs register, with tags, care level and contacts."""
    form, residents = filtered_residents(request_user(request), request.GET)
    residents = residents.on_register().with_contacts().select_related("care_profile")
    query = request.GET.copy()
    query.pop("print", None)
    context = {
        "form": form,
        "page": _page(request, residents),
        "query": query.urlencode(),
        "printing": bool(request.GET.get("print")),
        "printed_at": timezone.localtime(),
        "user_label": str(request_user(request)),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "registry/partials/register_rows.html", context)
    return render(request, "registry/register.html", context)


@require(can_see_people)
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    resident = get_resident_for(user, pk)
    profile = CareProfile.objects.filter(resident=resident).first()
    context = {
        "resident": resident,
        "profile": profile,
        "tags": CareTagAssignment.objects.filter(resident=resident).select_related("recorded_by"),
        "contacts": EmergencyContact.objects.filter(resident=resident),
        "history": LogEntry.objects.get_for_object(resident)
        .select_related("actor")
        .order_by("-timestamp")[:30],
        "can_edit": can_edit_people(user),
        "reveal_form": RevealForm(),
    }
    return render(request, "registry/resident_detail.html", context)


@require(can_see_people)
@require_POST
def resident_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    resident = get_resident_for(user, pk)
    form = RevealForm(request.POST)
    value = ""
    if form.is_valid():
        try:
            value = actions.resident_reveal(
                actor=user,
                resident=resident,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
    status = 200 if value or (form.is_valid() and not form.errors) else 400
    field = request.POST.get("field", "")
    context = {
        "resident": resident,
        "profile": CareProfile.objects.filter(resident=resident).first(),
        "form": form,
        "value": value,
        "field": field,
    }
    return render(request, "registry/partials/reveal.html", context, status=status)


def _resident_initial(resident: Resident) -> dict[str, Any]:
    return {
        "name": resident.name,
        "sex": resident.sex,
        "birth_date": resident.birth_date,
        "relation": resident.relation,
        "living_status": resident.living_status,
        "notes": resident.notes,
        # Numbers are never put back into the page: an empty field keeps the stored value.
        "id_number": "",
        "phone": "",
    }


def _warn(request: HttpRequest, resident: Resident) -> None:
    for warning in resident.warnings():
        messages.warning(request, warning)


@require(can_edit_people)
def resident_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    household = get_household_for(user, pk)
    form = ResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resident = actions.resident_create(
                actor=user, household=household, values=form.cleaned_data
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("已登记 %(name)s") % {"name": resident.name})
            _warn(request, resident)
            return redirect("registry:resident_detail", pk=resident.pk)
    return render(
        request,
        "registry/resident_form.html",
        {"form": form, "household": household},
        status=400 if request.method == "POST" else 200,
    )


@require(can_edit_people)
def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    resident = get_resident_for(user, pk)
    form = ResidentForm(request.POST or None, initial=_resident_initial(resident))
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        for number in ("id_number", "phone"):
            if not values[number] and not request.POST.get(f"clear_{number}"):
                values.pop(number)
        try:
            actions.resident_update(actor=user, resident=resident, values=values)
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("已保存"))
            _warn(request, resident)
            return redirect("registry:resident_detail", pk=resident.pk)
    return render(
        request,
        "registry/resident_form.html",
        {"form": form, "resident": resident, "household": resident.household},
        status=400 if request.method == "POST" else 200,
    )


@require(can_edit_people)
def care_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    resident = get_resident_for(user, pk)
    profile = CareProfile.objects.filter(resident=resident).first()
    initial: dict[str, Any] = {
        "tags": list(
            CareTagAssignment.objects.filter(resident=resident).values_list("tag", flat=True)
        )
    }
    if profile:
        initial.update(
            ltc_level=profile.ltc_level,
            hobbies=profile.hobbies,
            birthday=profile.birthday,
            notes=profile.notes,
        )
    existing = list(EmergencyContact.objects.filter(resident=resident)[: CareForm.CONTACT_ROWS])
    for i, contact in enumerate(existing):
        initial[f"contact_{i}_name"] = contact.name
        initial[f"contact_{i}_relation"] = contact.relation
    form = CareForm(request.POST or None, initial=initial)
    # Stored phones are never put into the page: a blank phone keeps the one on file.
    for i, contact in enumerate(existing):
        form.fields[f"contact_{i}_phone"].widget.attrs["placeholder"] = contact.masked_phone
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        contacts = []
        for i in range(CareForm.CONTACT_ROWS):
            name, phone = data[f"contact_{i}_name"], data[f"contact_{i}_phone"]
            if not phone and i < len(existing):
                phone = existing[i].phone
            if name or data[f"contact_{i}_phone"]:
                contacts.append(actions.ContactInput(name, data[f"contact_{i}_relation"], phone))
        care = actions.CareInput(
            tags=data["tags"],
            conditions=(data["conditions"] or ("" if data["clear_conditions"] else None)),
            ltc_level=data["ltc_level"],
            hobbies=data["hobbies"],
            birthday=data["birthday"],
            notes=data["notes"],
            contacts=contacts,
        )
        try:
            actions.care_profile_save(actor=user, resident=resident, care=care)
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("关爱档案已保存"))
            return redirect("registry:resident_detail", pk=resident.pk)
    return render(
        request,
        "registry/care_form.html",
        {"form": form, "resident": resident},
        status=400 if request.method == "POST" else 200,
    )
