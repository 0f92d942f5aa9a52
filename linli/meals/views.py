"""Staff pages for meal aid: the overview, the policy, who it covers, applications,
canteens, enrolments, the day's list (printable, with its delivery tasks and each meal
delivered or missed) and the figures with their Excel export."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import openpyxl
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.lib.pdf import pdf_response, render_pdf
from linli.meals import access, actions
from linli.meals.api import figures_range
from linli.meals.choices import ApplicationStatus, DeliveryStatus, Meal
from linli.meals.daily import daily_list, title
from linli.meals.eligibility import eligible_residents, enrolled_on, explain
from linli.meals.figures import Figures, meal_figures
from linli.meals.forms import (
    ApplicationFilterForm,
    ApplicationForm,
    CanteenForm,
    DailyForm,
    DecideForm,
    DeliveryForm,
    EligibleFilterForm,
    EndForm,
    EnrolmentForm,
    FiguresForm,
    MealDayForm,
    PolicyForm,
)
from linli.meals.models import Canteen
from linli.registry.access import (
    get_community_for,
    get_resident_for,
    request_user,
    require,
    visible_communities,
)
from linli.registry.forms import add_action_errors
from linli.registry.models import Resident
from linli.registry.spreadsheets import XLSX_CONTENT_TYPE, safe_cell


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


def _day(text: str | None) -> dt.date:
    """A date from a URL or query ('2024-05-01'); today when absent; 404 when nonsense."""
    if not text:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Http404(_("日期格式应为 YYYY-MM-DD")) from None


@require(access.can_see_meals)
def home(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    today = timezone.localdate()
    policies = {p.community_id: p for p in access.visible_policies(user)}
    communities = list(visible_communities(user).order_by("code"))
    canteens = list(access.visible_canteens(user).order_by("community__code", "name"))
    lists = [daily_list(c, today) for c in canteens if c.is_active]
    pending = access.visible_applications(user).filter(status=ApplicationStatus.PENDING).count()
    context = {
        "rows": [(c, policies.get(c.pk)) for c in communities],
        "lists": lists,
        "canteens": canteens,
        "pending": pending,
        "today": today,
        "can_manage": access.can_manage_meals(user),
    }
    return render(request, "meals/home.html", context)


# --- policy ---------------------------------------------------------------------------------


@require(access.can_manage_meals)
def policy_edit(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    community = get_community_for(user, code)
    policy = access.visible_policies(user).filter(community=community).first()
    initial: dict[str, Any] = {"approved_applications": True}
    if policy is not None:
        initial = {
            "min_age": policy.min_age,
            "min_ltc_level": policy.min_ltc_level,
            "care_tags": list(policy.care_tags),
            "approved_applications": policy.approved_applications,
        }
    form = PolicyForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.policy_save(
                    actor=user,
                    community=community,
                    data=actions.PolicyInput(
                        min_age=data["min_age"],
                        min_ltc_level=data["min_ltc_level"],
                        care_tags=data["care_tags"],
                        approved_applications=data["approved_applications"],
                    ),
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("%(name)s 爱心餐资格规则已保存") % {"name": community})
                return redirect(f"{reverse('meals:eligible')}?community={community.code}")
    covered = 0
    if policy is not None:
        covered = eligible_residents(
            Resident.objects.filter(household__community=community), [policy], timezone.localdate()
        ).count()
    context = {"form": form, "community": community, "policy": policy, "covered": covered}
    return render(request, "meals/policy_form.html", context, status=status)


# --- eligible -------------------------------------------------------------------------------


@require(access.can_see_meals)
def eligible(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = EligibleFilterForm(request.GET, communities=visible_communities(user).order_by("code"))
    policies = list(access.visible_policies(user))
    residents = Resident.objects.all()
    day = timezone.localdate()
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        day = data["day"] or day
        if data["community"]:
            residents = residents.filter(household__community=data["community"])
        if data["q"]:
            residents = residents.search(data["q"])
        found = eligible_residents(residents, policies, day)
        if data["not_enrolled"]:
            found = found.exclude(enrolled_on(day))
    else:
        found = Resident.objects.none()
        status = 400
    found = found.order_by("household__address", "pk")
    page = Paginator(found, settings.LINLI_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = explain(found.filter(pk__in=[r.pk for r in page.object_list]), policies, day)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "day": day,
        "query": query.urlencode(),
        "policies": policies,
        "can_manage": access.can_manage_meals(user),
    }
    return render(request, "meals/eligible.html", context, status=status)


# --- applications ---------------------------------------------------------------------------


@require(access.can_see_meals)
def application_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = ApplicationFilterForm(request.GET)
    found = access.visible_applications(user)
    if form.is_valid() and form.cleaned_data["status"]:
        found = found.filter(status=form.cleaned_data["status"])
    page = Paginator(found, settings.LINLI_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "decide_form": DecideForm(),
        "can_manage": access.can_manage_meals(user),
    }
    return render(request, "meals/application_list.html", context)


@require(access.can_see_meals)
def application_new(request: HttpRequest) -> HttpResponse:
    """Find the resident, then take the application."""
    user = request_user(request)
    resident_pk = request.POST.get("resident") or request.GET.get("resident")
    resident = get_resident_for(user, resident_pk) if resident_pk else None
    q = (request.GET.get("q") or "").strip()[:64]
    matches = list(Resident.objects.search(q).select_related("household")[:20]) if q else []
    form = ApplicationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if resident is None:
            form.add_error(None, _("请先选择居民"))
        elif form.is_valid():
            try:
                actions.application_create(
                    actor=user,
                    resident=resident,
                    applicant=form.cleaned_data["applicant"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("已登记 %(name)s 的申请") % {"name": resident.name})
                return redirect("meals:application_list")
    context = {"form": form, "resident": resident, "q": q, "matches": matches}
    return render(request, "meals/application_form.html", context, status=status)


@require(access.can_manage_meals)
@require_POST
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    application = access.get_application_for(user, pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            actions.application_decide(
                actor=user,
                application=application,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("申请 #%(id)s 已处理") % {"id": application.pk})
            return redirect("meals:application_list")
    errors = [str(m) for ms in form.errors.values() for m in ms]
    context = {
        "form": ApplicationFilterForm(),
        "page": Paginator(access.visible_applications(user), settings.LINLI_PAGE_SIZE).get_page(1),
        "decide_form": DecideForm(),
        "refused": errors,
        "refused_id": application.pk,
        "can_manage": True,
    }
    return render(request, "meals/application_list.html", context, status=400)


# --- canteens -------------------------------------------------------------------------------


@require(access.can_see_meals)
def canteen_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    canteens = (
        access.visible_canteens(user)
        .annotate(
            running=Count(
                "enrolments",
                filter=Q(enrolments__starts_on__lte=timezone.localdate())
                & (
                    Q(enrolments__ends_on__isnull=True)
                    | Q(enrolments__ends_on__gte=timezone.localdate())
                ),
            )
        )
        .order_by("community__code", "name")
    )
    context = {"canteens": canteens, "can_manage": access.can_manage_meals(user)}
    return render(request, "meals/canteen_list.html", context)


def _canteen_page(request: HttpRequest, canteen: Canteen | None) -> HttpResponse:
    user = request_user(request)
    initial: dict[str, Any] = {"is_active": True, "capacity": 100}
    if canteen is not None:
        initial = {
            "name": canteen.name,
            "community": canteen.community.code,
            "address": canteen.address,
            "capacity": canteen.capacity,
            "is_active": canteen.is_active,
        }
    form = CanteenForm(
        request.POST or None,
        initial=initial,
        communities=visible_communities(user).order_by("code"),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.canteen_save(
                    actor=user,
                    community=canteen.community if canteen else data["community"],
                    name=data["name"],
                    address=data["address"],
                    capacity=data["capacity"],
                    is_active=data["is_active"],
                    canteen=canteen,
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("助餐点已保存"))
                return redirect("meals:canteen_list")
    return render(
        request, "meals/canteen_form.html", {"form": form, "canteen": canteen}, status=status
    )


@require(access.can_manage_meals)
def canteen_new(request: HttpRequest) -> HttpResponse:
    return _canteen_page(request, None)


@require(access.can_manage_meals)
def canteen_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _canteen_page(request, access.get_canteen_for(request_user(request), pk))


# --- enrolments -----------------------------------------------------------------------------


@require(access.can_see_meals)
def enrolment_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    today = timezone.localdate()
    found = access.visible_enrolments(user).order_by("canteen_id", "resident__household__address")
    show = request.GET.get("show", "running")
    if show == "running":
        found = found.filter(starts_on__lte=today).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=today)
        )
    elif show == "ended":
        found = found.filter(ends_on__lt=today)
    canteen = request.GET.get("canteen", "")
    if canteen.isdigit():
        found = found.filter(canteen_id=int(canteen))
    page = Paginator(found, settings.LINLI_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "show": show,
        "canteen": canteen,
        "canteens": access.visible_canteens(user),
        "query": query.urlencode(),
        "can_manage": access.can_manage_meals(user),
    }
    return render(request, "meals/enrolment_list.html", context)


def _enrolment_input(data: dict[str, Any]) -> actions.EnrolmentInput:
    return actions.EnrolmentInput(
        canteen=data["canteen"],
        starts_on=data["starts_on"],
        ends_on=data["ends_on"],
        lunch=data["lunch"],
        dinner=data["dinner"],
        diets=data["diets"],
        diet_notes=data["diet_notes"],
    )


@require(access.can_manage_meals)
def enrolment_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    resident_pk = request.POST.get("resident") or request.GET.get("resident")
    if not resident_pk:
        raise Http404(_("请从符合条件的名单中选择居民"))
    resident = get_resident_for(user, resident_pk)
    canteens = access.visible_canteens(user).filter(
        community_id=resident.household.community_id, is_active=True
    )
    form = EnrolmentForm(request.POST or None, canteens=canteens)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                actions.enrolment_create(
                    actor=user, resident=resident, data=_enrolment_input(form.cleaned_data)
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("%(name)s 已登记爱心餐") % {"name": resident.name})
                return redirect("meals:enrolment_list")
    context = {"form": form, "resident": resident, "enrolment": None}
    return render(request, "meals/enrolment_form.html", context, status=status)


@require(access.can_see_meals)
def enrolment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    enrolment = access.get_enrolment_for(user, pk)
    can_manage = access.can_manage_meals(user)
    canteens = access.visible_canteens(user).filter(community_id=enrolment.canteen.community_id)
    initial = {
        "canteen": enrolment.canteen_id,
        "lunch": enrolment.lunch,
        "dinner": enrolment.dinner,
        "diets": list(enrolment.diets),
        "diet_notes": enrolment.diet_notes,
        "starts_on": enrolment.starts_on,
        "ends_on": enrolment.ends_on,
    }
    form = EnrolmentForm(request.POST or None, initial=initial, canteens=canteens)
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(_("只有社区工作人员和街道可以修改登记"))
        status = 400
        if form.is_valid():
            try:
                actions.enrolment_update(
                    actor=user, enrolment=enrolment, data=_enrolment_input(form.cleaned_data)
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("登记已更新"))
                return redirect("meals:enrolment_edit", pk=enrolment.pk)
    context = {
        "form": form,
        "resident": enrolment.resident,
        "enrolment": enrolment,
        "end_form": EndForm(initial={"ends_on": timezone.localdate()}),
        "can_manage": can_manage,
        "deliveries": enrolment.deliveries.order_by("-day", "meal")[:30],
    }
    return render(request, "meals/enrolment_form.html", context, status=status)


@require(access.can_manage_meals)
@require_POST
def enrolment_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    enrolment = access.get_enrolment_for(user, pk)
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            actions.enrolment_end(
                actor=user,
                enrolment=enrolment,
                ends_on=form.cleaned_data["ends_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("已结束：最后用餐日 %(day)s") % {"day": enrolment.ends_on})
            return redirect("meals:enrolment_edit", pk=enrolment.pk)
    canteens = access.visible_canteens(user).filter(community_id=enrolment.canteen.community_id)
    context = {
        "form": EnrolmentForm(canteens=canteens, initial={"canteen": enrolment.canteen_id}),
        "resident": enrolment.resident,
        "enrolment": enrolment,
        "end_form": form,
        "can_manage": True,
        "deliveries": enrolment.deliveries.order_by("-day", "meal")[:30],
    }
    return render(request, "meals/enrolment_form.html", context, status=400)


# --- the day's list -------------------------------------------------------------------------


@require(access.can_see_meals)
def daily(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    canteens = access.visible_canteens(user).order_by("community__code", "name")
    data = request.GET.copy()
    if not data.get("canteen") and canteens.exists():
        data["canteen"] = str(canteens.first().pk)  # type: ignore[union-attr]
    form = DailyForm(data, canteens=canteens)
    listed = None
    status = 200
    if form.is_valid():
        listed = daily_list(
            form.cleaned_data["canteen"], form.cleaned_data["day"] or timezone.localdate()
        )
    elif canteens.exists():
        status = 400
    return render(request, "meals/daily.html", _daily_context(user, form, listed), status=status)


def _daily_context(user: User, form: DailyForm, listed: Any) -> dict[str, Any]:
    links = []
    if listed is not None:
        links = list(
            listed.canteen.delivery_tasks.filter(day=listed.day)
            .select_related("task", "building__compound")
            .order_by("meal", "building__sort_key")
        )
    return {
        "form": form,
        "listed": listed,
        "links": links,
        "meals": Meal.choices,
        "can_record": access.can_record_meals(user),
        "today": timezone.localdate(),
    }


@require(access.can_see_meals)
def daily_pdf(request: HttpRequest, pk: int, day: str) -> HttpResponse:
    """The kitchen's and the deliverers' sheet: counts by diet, then building by building."""
    canteen = access.get_canteen_for(request_user(request), pk)
    listed = daily_list(canteen, _day(day))
    pdf = render_pdf(request, "meals/pdf/daily.html", {"listed": listed, "title": title(listed)})
    return pdf_response(pdf, f"{title(listed)}.pdf")


def _daily_redirect(canteen: Canteen, day: dt.date) -> HttpResponse:
    return redirect(f"{reverse('meals:daily')}?canteen={canteen.pk}&day={day.isoformat()}")


def _daily_refused(
    request: HttpRequest, canteen: Canteen, day: dt.date, errors: list[str]
) -> HttpResponse:
    user = request_user(request)
    canteens = access.visible_canteens(user).order_by("community__code", "name")
    form = DailyForm({"canteen": canteen.pk, "day": day.isoformat()}, canteens=canteens)
    form.is_valid()
    context = _daily_context(user, form, daily_list(canteen, day))
    context["refused"] = errors
    return render(request, "meals/daily.html", context, status=400)


def _errors(form: Any) -> list[str]:
    return [str(m) for ms in form.errors.values() for m in ms]


@require(access.can_record_meals)
@require_POST
def daily_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    canteen = access.get_canteen_for(user, pk)
    form = MealDayForm(request.POST)
    day = timezone.localdate()
    if form.is_valid():
        day = form.cleaned_data["day"]
        try:
            created = actions.delivery_tasks_create(
                actor=user, canteen=canteen, day=day, meal=form.cleaned_data["meal"]
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("已发布送餐任务 %(n)s 个") % {"n": len(created)})
            return _daily_redirect(canteen, day)
    return _daily_refused(request, canteen, day, _errors(form))


@require(access.can_record_meals)
@require_POST
def daily_record(request: HttpRequest, pk: int) -> HttpResponse:
    """One meal delivered or missed (the row again for HTMX, else back to the list)."""
    user = request_user(request)
    canteen = access.get_canteen_for(user, pk)
    form = DeliveryForm(request.POST)
    day = timezone.localdate()
    if form.is_valid():
        day = form.cleaned_data["day"]
        enrolment = access.get_enrolment_for(user, form.cleaned_data["enrolment"])
        if enrolment.canteen_id != canteen.pk:
            raise Http404(_("该登记不属于这个助餐点"))
        try:
            actions.delivery_record(
                actor=user,
                enrolment=enrolment,
                day=day,
                meal=form.cleaned_data["meal"],
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            if _is_htmx(request):
                listed = daily_list(canteen, day)
                row = next(r for r in listed.rows if r.enrolment.pk == enrolment.pk)
                context = {
                    "row": row,
                    "listed": listed,
                    "can_record": True,
                    "today": timezone.localdate(),
                }
                return render(request, "meals/partials/daily_row.html", context)
            label = DeliveryStatus(form.cleaned_data["status"]).label
            messages.success(
                request,
                _("%(name)s：%(status)s") % {"name": enrolment.resident.name, "status": label},
            )
            return _daily_redirect(canteen, day)
    return _daily_refused(request, canteen, day, _errors(form))


def _record_day(
    request: HttpRequest,
    pk: int,
    record: Callable[..., actions.Outcome],
    done: Callable[[actions.Outcome], str],
) -> HttpResponse:
    """One of the day's bulk steps for a meal: `record` writes, `done` says what it did."""
    user = request_user(request)
    canteen = access.get_canteen_for(user, pk)
    form = MealDayForm(request.POST)
    day = timezone.localdate()
    if form.is_valid():
        day = form.cleaned_data["day"]
        try:
            outcome = record(actor=user, canteen=canteen, day=day, meal=form.cleaned_data["meal"])
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, done(outcome))
            return _daily_redirect(canteen, day)
    return _daily_refused(request, canteen, day, _errors(form))


@require(access.can_record_meals)
@require_POST
def daily_rest(request: HttpRequest, pk: int) -> HttpResponse:
    return _record_day(
        request,
        pk,
        actions.deliveries_record_rest,
        lambda outcome: _("其余 %(n)s 人记为已送达") % {"n": outcome.delivered},
    )


@require(access.can_record_meals)
@require_POST
def daily_from_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    return _record_day(
        request,
        pk,
        actions.deliveries_from_tasks,
        lambda outcome: (
            _("按任务结果登记：已送达 %(d)s，未送达 %(m)s")
            % {"d": outcome.delivered, "m": outcome.missed}
        ),
    )


# --- figures --------------------------------------------------------------------------------


def _figures(request: HttpRequest, form: FiguresForm) -> Figures:
    user = request_user(request)
    data = form.cleaned_data if form.is_valid() else {}
    try:
        since, until = figures_range(data.get("since"), data.get("until"))
    except ValidationError as e:
        add_action_errors(form, e)
        since, until = figures_range(None, None)
    return meal_figures(
        access.visible_enrolments(user), access.visible_deliveries(user), since, until
    )


@require(access.can_see_meals)
def figures(request: HttpRequest) -> HttpResponse:
    form = FiguresForm(request.GET)
    found = _figures(request, form)
    status = 200 if not form.errors else 400
    return render(request, "meals/figures.html", {"form": form, "figures": found}, status=status)


@require(access.can_see_meals)
def figures_export(request: HttpRequest) -> HttpResponse:
    form = FiguresForm(request.GET)
    found = _figures(request, form)
    if form.errors:
        return render(request, "meals/figures.html", {"form": form, "figures": found}, status=400)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101
    sheet.title = _("每日送餐")
    sheet.append([_("统计区间"), f"{found.since.isoformat()} — {found.until.isoformat()}"])
    sheet.append([_("期间送达人数"), found.people_served, _("期间登记人数"), found.enrolled])
    sheet.append([_("日期"), _("应送午餐"), _("应送晚餐"), _("已送达"), _("未送达"), _("未登记")])
    for d in found.days:
        sheet.append(
            [
                safe_cell(v)
                for v in (
                    d.day,
                    d.planned_lunch,
                    d.planned_dinner,
                    d.delivered,
                    d.missed,
                    d.unrecorded,
                )
            ]
        )
    sheet.column_dimensions["A"].width = 14
    buffer = io.BytesIO()
    workbook.save(buffer)
    filename = _("爱心餐统计_%(since)s_%(until)s.xlsx") % {
        "since": found.since.isoformat(),
        "until": found.until.isoformat(),
    }
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response
