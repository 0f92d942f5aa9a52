"""Staff pages for wishes: the list, collecting one for a household, one wish with its
timeline and the steps staff take on it (approve, withdraw, release, receive, door, thanks)."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.registry.access import get_unit_for, request_user, require, visible_units
from linli.registry.forms import add_action_errors
from linli.registry.models import Household, Unit
from linli.registry.scope import area_for
from linli.wishes import actions
from linli.wishes.access import (
    can_collect_wishes,
    can_manage_wishes,
    can_see_wishes,
    get_wish_for,
    may_step,
    visible_batches,
    visible_wishes,
)
from linli.wishes.choices import WishStatus
from linli.wishes.forms import (
    DoorForm,
    ReasonForm,
    ReceiveForm,
    ThanksForm,
    WishEditForm,
    WishFilterForm,
    WishForm,
)
from linli.wishes.models import Wish

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


def settle_for(user: User) -> None:
    """Door deliveries finished on the task board become fulfilled wishes (see actions)."""
    actions.wishes_settle(community_ids=area_for(user).communities)


@require(can_see_wishes)
def wish_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    settle_for(user)
    form = WishFilterForm(request.GET, batches=visible_batches(user))
    wishes = visible_wishes(user).order_by("-created_at", "-pk")
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            wishes = wishes.filter(status=data["status"])
        if data["batch"]:
            wishes = wishes.filter(batch=data["batch"])
        if data["q"]:
            wishes = wishes.filter(
                Q(item__contains=data["q"]) | Q(household__address__contains=data["q"])
            )
    else:
        wishes = wishes.none()
    page = Paginator(wishes, settings.LINLI_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "today": timezone.localdate(),
        "can_collect": can_collect_wishes(user),
        "can_manage": can_manage_wishes(user),
    }
    if _is_htmx(request):
        return render(request, "wishes/partials/wish_rows.html", context)
    return render(request, "wishes/wish_list.html", context)


# --- collecting -------------------------------------------------------------------------


def _units(user: User) -> Any:
    return (
        visible_units(user)
        .select_related("building__compound")
        .order_by("building__compound__name", "building__sort_key", "sort_key")
    )


def _rooms(unit: Unit | None) -> list[Household]:
    if unit is None:
        return []
    return list(Household.objects.filter(unit=unit).order_by("room_sort_key", "room"))


@require(can_collect_wishes)
def wish_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = WishForm(
        request.POST or None,
        request.FILES or None,
        units=_units(user),
        households=Household.objects.all(),
    )
    unit: Unit | None = None
    unit_pk = request.POST.get("unit") or request.GET.get("unit")
    if unit_pk:
        unit = get_unit_for(user, unit_pk)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                wish = actions.wish_collect(
                    actor=user,
                    data=actions.WishInput(
                        household=data["household"],
                        recipient=data["recipient"],
                        item=data["item"],
                        quantity=data["quantity"],
                        value_fen=data["value"],
                        note=data["note"],
                        photo=data["photo"],
                    ),
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("心愿“%(wish)s”已收集") % {"wish": wish})
                if "another" in request.POST:
                    return redirect(f"{request.path}?unit={wish.household.unit_id}")
                return redirect("wishes:wish_detail", pk=wish.pk)
    chosen = form["household"].value()
    context = {
        "form": form,
        "unit": unit,
        "rooms": _rooms(unit),
        "chosen": str(chosen) if chosen else "",
    }
    return render(request, "wishes/wish_form.html", context, status=status)


@require(can_collect_wishes)
def wish_rooms(request: HttpRequest) -> HttpResponse:
    """The rooms of the chosen unit to pick from (HTMX)."""
    user = request_user(request)
    unit_pk = request.GET.get("unit")
    unit = get_unit_for(user, unit_pk) if unit_pk else None
    context = {"unit": unit, "rooms": _rooms(unit), "chosen": request.GET.get("household", "")}
    return render(request, "wishes/partials/wish_rooms.html", context)


@require(can_collect_wishes)
def wish_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    wish = get_wish_for(user, pk)
    if not may_step(user, wish, "edit"):
        raise PermissionDenied(_("您的角色无权修改心愿"))
    initial = {
        "recipient": wish.recipient,
        "item": wish.item,
        "quantity": wish.quantity,
        "value": f"{wish.value_fen / 100:.2f}",
        "note": wish.note,
    }
    form = WishEditForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.wish_update(
                    actor=user,
                    wish=wish,
                    data=actions.WishInput(
                        household=wish.household,
                        recipient=data["recipient"],
                        item=data["item"],
                        quantity=data["quantity"],
                        value_fen=data["value"],
                        note=data["note"],
                        photo=data["photo"],
                    ),
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("心愿已修改"))
                return redirect("wishes:wish_detail", pk=wish.pk)
    return render(request, "wishes/wish_edit.html", {"wish": wish, "form": form}, status=status)


# --- one wish ---------------------------------------------------------------------------


def _wish_context(request: HttpRequest, wish: Wish, **forms: Form) -> dict[str, Any]:
    user = request_user(request)
    status = wish.status
    door_pending = actions._door_delivery_pending(wish)
    context: dict[str, Any] = {
        "wish": wish,
        "events": list(wish.events.select_related("actor")),
        "claims": list(wish.claims.select_related("claimer", "released_by")),
        "today": timezone.localdate(),
        "door_pending": door_pending,
        "can_edit": status in (WishStatus.COLLECTED, WishStatus.APPROVED)
        and may_step(user, wish, "edit"),
        "can_approve": status == WishStatus.COLLECTED and may_step(user, wish, "approve"),
        "can_withdraw": wish.can_become(WishStatus.WITHDRAWN) and may_step(user, wish, "withdraw"),
        "can_release": status == WishStatus.CLAIMED
        and not door_pending
        and may_step(user, wish, "release"),
        "can_receive": status == WishStatus.CLAIMED
        and not door_pending
        and may_step(user, wish, "receive"),
        "can_door": status == WishStatus.CLAIMED
        and not door_pending
        and may_step(user, wish, "door"),
        "can_thank": status == WishStatus.FULFILLED and may_step(user, wish, "thank"),
        "withdraw_form": ReasonForm(prefix="withdraw"),
        "release_form": ReasonForm(prefix="release"),
        "receive_form": ReceiveForm(prefix="receive"),
        "door_form": DoorForm(prefix="door"),
        "thanks_form": ThanksForm(prefix="thanks"),
    }
    context.update(forms)
    return context


@require(can_see_wishes)
def wish_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    settle_for(user)
    wish = get_wish_for(user, pk)
    return render(request, "wishes/wish_detail.html", _wish_context(request, wish))


Step = Callable[[User, Wish, dict[str, Any]], object]

# verb → (step in access.WISH_STEPS, form class, form prefix, run, message when done)
STEPS: dict[str, tuple[str, type[Form], str, Step, StrPromise]] = {
    "approve": (
        "approve",
        Form,
        "approve",
        lambda u, w, d: actions.wish_approve(actor=u, wish=w),
        _lazy("心愿已审核"),
    ),
    "withdraw": (
        "withdraw",
        ReasonForm,
        "withdraw",
        lambda u, w, d: actions.wish_withdraw(actor=u, wish=w, reason=d["reason"]),
        _lazy("心愿已撤回"),
    ),
    "release": (
        "release",
        ReasonForm,
        "release",
        lambda u, w, d: actions.claim_release(actor=u, wish=w, reason=d["reason"]),
        _lazy("认领已退回，心愿重新可认领"),
    ),
    "receive": (
        "receive",
        ReceiveForm,
        "receive",
        lambda u, w, d: actions.wish_receive(actor=u, wish=w, note=d["note"], photo=d["photo"]),
        _lazy("已登记礼物送到服务中心"),
    ),
    "door": (
        "door",
        DoorForm,
        "door",
        lambda u, w, d: actions.wish_send_to_door(
            actor=u, wishes=[w], description=d["description"]
        ),
        _lazy("已发布上门配送任务"),
    ),
    "thank": (
        "thank",
        ThanksForm,
        "thanks",
        lambda u, w, d: actions.wish_thank(actor=u, wish=w, thanks=d["thanks"]),
        _lazy("已记录感谢"),
    ),
}


@require(can_collect_wishes)
@require_POST
def wish_step(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """Parse the step's form, check who may, run the action; the page again (or the panel)."""
    if verb not in STEPS:
        raise Http404(_("没有这个操作"))
    step, form_class, prefix, run, done = STEPS[verb]
    user = request_user(request)
    wish = get_wish_for(user, pk)
    if not may_step(user, wish, step):
        raise PermissionDenied(_("您的角色无权进行此操作"))
    form = form_class(request.POST, request.FILES, prefix=prefix)
    if form.is_valid():
        try:
            run(user, wish, form.cleaned_data)
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, str(done))
            return redirect("wishes:wish_detail", pk=wish.pk)
    context = _wish_context(request, get_wish_for(user, pk), **{f"{prefix}_form": form})
    context["refused"] = [str(m) for ms in form.errors.values() for m in ms]
    return render(request, "wishes/wish_detail.html", context, status=400)


# --- photos (kept off MEDIA_URL: they may show a home) ---------------------------------

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


def _stream(photo: FieldFile) -> FileResponse:
    if not photo:
        raise Http404(_("没有照片"))
    try:
        handle = photo.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("照片文件不存在")) from None
    content_type = mimetypes.guess_type(photo.name or "")[0] or ""
    inline = content_type in IMAGE_TYPES
    response = FileResponse(
        handle,
        content_type=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def wish_photo(request: HttpRequest, pk: int, which: str) -> FileResponse:
    user = request_user(request)
    if not can_see_wishes(user):
        raise Http404(_("未找到，或不在您的管辖范围内"))
    wish = get_wish_for(user, pk)
    if which == "proof":
        return _stream(wish.proof_photo)
    if which == "photo":
        return _stream(wish.photo)
    raise Http404(_("没有照片"))
