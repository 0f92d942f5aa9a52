"""微心愿 in the REST API (errors: linli/api.py).

Staff endpoints check access (wishes/access.py: 403 for a role that may not, 404 outside
the area) and call the actions. The public endpoints (no sign-in, rate-limited) are what
the QR page does: list a published batch without personal data, claim, see and release a
claim by its token.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from linli.accounts.api import api_user
from linli.accounts.models import User
from linli.lib import rest
from linli.lib.limits import over_limit
from linli.lib.rest import ERRORS, ErrorOut, InputSchema, Page, PageQuery, local_time, page_of
from linli.registry import access as registry_access
from linli.registry.models import Community
from linli.registry.scope import area_for
from linli.wishes import access, actions
from linli.wishes.choices import ClaimerKind, WishStatus
from linli.wishes.models import HOLDING, Claimer, Wish, WishBatch, WishClaim
from linli.wishes.views.figures import figures_for
from linli.wishes.views.public import claim_link_base
from linli.wishes.views.wishes import settle_for

router = Router()
staff = Router(tags=["微心愿"])
public = Router(tags=["微心愿（公开认领）"])
router.add_router("", staff)
router.add_router("", public)


# --- shared pieces --------------------------------------------------------------------------


def _reader(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_see_wishes(user), _("您的角色无权查看微心愿"))
    settle_for(user)
    return user


def _manager(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_manage_wishes(user), _("您的角色无权管理微心愿"))
    return user


def _collector(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_collect_wishes(user), _("您的角色无权收集微心愿"))
    return user


def _may(user: User, wish: Wish, step: str) -> None:
    rest.require(access.may_step(user, wish, step), _("您的角色无权进行此操作"))


class ClaimerOut(Schema):
    id: int
    name_masked: str
    phone_masked: str = Field(description="手机号（已隐藏）；完整号码请用 reveal")
    work_unit: str
    kind: str
    kind_label: str
    claim_count: int = Field(description="当前认领的心愿数")


class WishOut(Schema):
    id: int
    community_id: int
    household_id: int
    address: str
    recipient: str = Field(description="心愿对象（公开描述）")
    item: str
    quantity: int
    value_fen: int = Field(description="估计价值（分）")
    note: str
    status: str
    status_label: str
    batch_id: int | None
    number: int
    claimer: ClaimerOut | None
    claimed_at: dt.datetime | None
    deliver_by: dt.date | None = Field(description="送达截止日期（已认领时）")
    delivery_mode: str
    task_id: int | None = Field(description="上门配送任务")
    fulfilled_at: dt.datetime | None
    proof_note: str
    thanks: str
    withdrawn_reason: str
    created_at: dt.datetime


class EventOut(Schema):
    at: dt.datetime
    actor: str
    from_status: str
    to_status: str
    to_label: str
    note: str


class BatchOut(Schema):
    id: int
    community_id: int
    title: str
    note: str
    deliver_by: dt.date
    per_claimer_limit: int
    status: str
    status_label: str
    code: str = Field(description="公开认领页 /w/{code}/")
    published_at: dt.datetime | None
    closed_at: dt.datetime | None
    wishes: int
    claimed: int


def _claimer_out(claimer: Claimer) -> ClaimerOut:
    return ClaimerOut(
        id=claimer.pk,
        name_masked=claimer.masked_name,
        phone_masked=claimer.masked_phone,
        work_unit=claimer.work_unit,
        kind=claimer.kind,
        kind_label=claimer.get_kind_display(),
        claim_count=claimer.claim_count,
    )


def _wish_out(wish: Wish) -> WishOut:
    stop = wish.task_stop
    return WishOut(
        id=wish.pk,
        community_id=wish.community_id,
        household_id=wish.household_id,
        address=wish.household.address,
        recipient=wish.recipient,
        item=wish.item,
        quantity=wish.quantity,
        value_fen=wish.value_fen,
        note=wish.note,
        status=wish.status,
        status_label=wish.get_status_display(),
        batch_id=wish.batch_id,
        number=wish.number,
        claimer=_claimer_out(wish.claimer) if wish.claimer else None,
        claimed_at=local_time(wish.claimed_at),
        deliver_by=wish.batch.deliver_by if wish.batch and wish.claimer else None,
        delivery_mode=wish.delivery_mode,
        task_id=stop.task_id if stop else None,
        fulfilled_at=local_time(wish.fulfilled_at),
        proof_note=wish.proof_note,
        thanks=wish.thanks,
        withdrawn_reason=wish.withdrawn_reason,
        created_at=timezone.localtime(wish.created_at),
    )


def _wishes(user: User) -> Q:
    return Q(pk__in=access.visible_wishes(user).values("pk"))


def _wish_detail(user: User, pk: int) -> WishOut:
    access.get_wish_for(user, pk)
    wish = Wish.objects.select_related("household", "batch", "claimer", "task_stop").get(pk=pk)
    return _wish_out(wish)


def _batch_out(batch: WishBatch) -> BatchOut:
    counts = Wish.objects.filter(batch=batch).aggregate(
        n=Count("pk"), held=Count("pk", filter=Q(status__in=HOLDING))
    )
    return BatchOut(
        id=batch.pk,
        community_id=batch.community_id,
        title=batch.title,
        note=batch.note,
        deliver_by=batch.deliver_by,
        per_claimer_limit=batch.per_claimer_limit,
        status=batch.status,
        status_label=batch.get_status_display(),
        code=batch.code,
        published_at=local_time(batch.published_at),
        closed_at=local_time(batch.closed_at),
        wishes=counts["n"] or 0,
        claimed=counts["held"] or 0,
    )


# --- wishes ---------------------------------------------------------------------------------


class WishQuery(PageQuery):
    status: WishStatus | None = Field(None, description="状态")
    batch_id: int | None = Field(None, description="批次")
    q: str | None = Field(None, max_length=40, description="物品或地址包含")


class WishIn(InputSchema):
    household_id: int = Field(description="户 id")
    recipient: str = Field(
        min_length=1, max_length=40, description="心愿对象的公开描述，如“一位低保户老人”"
    )
    item: str = Field(min_length=1, max_length=60, description="心愿物品")
    quantity: int = Field(1, ge=1, le=999)
    value_fen: int = Field(0, ge=0, description="估计价值（分）")
    note: str = Field("", max_length=200, description="备注（仅工作人员可见）")


class WishEditIn(InputSchema):
    recipient: str = Field(min_length=1, max_length=40)
    item: str = Field(min_length=1, max_length=60)
    quantity: int = Field(1, ge=1, le=999)
    value_fen: int = Field(0, ge=0)
    note: str = Field("", max_length=200)


class ReasonIn(InputSchema):
    reason: str = Field(min_length=1, max_length=200, description="原因")


class ReceiveIn(InputSchema):
    note: str = Field("", max_length=200, description="说明")


class DoorIn(InputSchema):
    wish_ids: list[int] = Field(
        default_factory=list, description="同一户的其他已认领心愿一起送（可省略）"
    )
    description: str = Field("", max_length=500, description="给志愿者的说明")


class ThanksIn(InputSchema):
    thanks: str = Field(min_length=1, max_length=500, description="受助家庭的感谢")


class DoorOut(Schema):
    task_id: int
    wishes: list[WishOut]


@staff.get("/wishes", response={200: Page[WishOut], **ERRORS})
def wish_list(request: HttpRequest, query: Query[WishQuery]) -> Page[WishOut]:
    """The wishes of the user's area (a grid worker: their grids')."""
    user = _reader(request)
    wishes = Wish.objects.filter(_wishes(user)).select_related(
        "household", "batch", "claimer", "task_stop"
    )
    if query.status is not None:
        wishes = wishes.filter(status=query.status.value)
    if query.batch_id is not None:
        wishes = wishes.filter(batch=access.get_batch_for(user, query.batch_id))
    if query.q:
        wishes = wishes.filter(Q(item__contains=query.q) | Q(household__address__contains=query.q))
    return page_of(wishes.order_by("-created_at", "-pk"), query, _wish_out)


@staff.post("/wishes", response={201: WishOut, **ERRORS})
def wish_collect(request: HttpRequest, payload: WishIn) -> Status[WishOut]:
    """Collect a wish for a household of the user's area (status 已收集)."""
    user = _collector(request)
    try:
        household = registry_access.get_household_for(user, payload.household_id)
    except Http404:
        raise ValidationError(
            {
                "household_id": [
                    _("户 %(id)s 不存在或不在您的管辖范围内") % {"id": payload.household_id}
                ]
            }
        ) from None
    with rest.fields_renamed(household="household_id"):
        wish = actions.wish_collect(
            actor=user,
            data=actions.WishInput(
                household=household,
                recipient=payload.recipient,
                item=payload.item,
                quantity=payload.quantity,
                value_fen=payload.value_fen,
                note=payload.note,
            ),
        )
    return Status(201, _wish_detail(user, wish.pk))


@staff.get("/wishes/{wish_id}", response={200: WishOut, **ERRORS})
def wish_detail(request: HttpRequest, wish_id: int) -> WishOut:
    user = _reader(request)
    return _wish_detail(user, wish_id)


@staff.get("/wishes/{wish_id}/events", response={200: list[EventOut], **ERRORS})
def wish_events(request: HttpRequest, wish_id: int) -> list[EventOut]:
    """Who moved the wish from which status to which, and when."""
    user = _reader(request)
    wish = access.get_wish_for(user, wish_id)
    labels = dict(WishStatus.choices)
    return [
        EventOut(
            at=timezone.localtime(e.at),
            actor=(e.actor.display_name or e.actor.username) if e.actor else _("认领人"),
            from_status=e.from_status,
            to_status=e.to_status,
            to_label=str(labels.get(e.to_status, "")),
            note=e.note,
        )
        for e in wish.events.select_related("actor")
    ]


@staff.post("/wishes/{wish_id}/edit", response={200: WishOut, **ERRORS})
def wish_edit(request: HttpRequest, wish_id: int, payload: WishEditIn) -> WishOut:
    """Correct a wish before it is published."""
    user = _collector(request)
    wish = access.get_wish_for(user, wish_id)
    _may(user, wish, "edit")
    actions.wish_update(
        actor=user,
        wish=wish,
        data=actions.WishInput(
            household=wish.household,
            recipient=payload.recipient,
            item=payload.item,
            quantity=payload.quantity,
            value_fen=payload.value_fen,
            note=payload.note,
        ),
    )
    return _wish_detail(user, wish_id)


@staff.post("/wishes/{wish_id}/approve", response={200: WishOut, **ERRORS})
def wish_approve(request: HttpRequest, wish_id: int) -> WishOut:
    user = _manager(request)
    actions.wish_approve(actor=user, wish=access.get_wish_for(user, wish_id))
    return _wish_detail(user, wish_id)


@staff.post("/wishes/{wish_id}/withdraw", response={200: WishOut, **ERRORS})
def wish_withdraw(request: HttpRequest, wish_id: int, payload: ReasonIn) -> WishOut:
    """Withdraw a wish (a live claim ends and the claimer is told)."""
    user = _collector(request)
    wish = access.get_wish_for(user, wish_id)
    _may(user, wish, "withdraw")
    actions.wish_withdraw(actor=user, wish=wish, reason=payload.reason)
    return _wish_detail(user, wish_id)


@staff.post("/wishes/{wish_id}/release", response={200: WishOut, **ERRORS})
def wish_release(request: HttpRequest, wish_id: int, payload: ReasonIn) -> WishOut:
    """Take the claim off its claimer: the wish is open to others again."""
    user = _manager(request)
    actions.claim_release(
        actor=user, wish=access.get_wish_for(user, wish_id), reason=payload.reason
    )
    return _wish_detail(user, wish_id)


@staff.post("/wishes/{wish_id}/receive", response={200: WishOut, **ERRORS})
def wish_receive(request: HttpRequest, wish_id: int, payload: ReceiveIn) -> WishOut:
    """The gift arrived at the service centre (已送达)."""
    user = _manager(request)
    actions.wish_receive(actor=user, wish=access.get_wish_for(user, wish_id), note=payload.note)
    return _wish_detail(user, wish_id)


@staff.post("/wishes/{wish_id}/door", response={201: DoorOut, **ERRORS})
def wish_door(request: HttpRequest, wish_id: int, payload: DoorIn) -> Status[DoorOut]:
    """A wish delivery task on the task board, one door (the household); the wish is
    fulfilled when the volunteer hands it over with the household's code or leaves it."""
    user = _manager(request)
    wishes = rest.pick(
        access.visible_wishes(user),
        [wish_id, *payload.wish_ids],
        field="wish_ids",
        what=_("心愿"),
    )
    with rest.fields_renamed(wishes="wish_ids"):
        task = actions.wish_send_to_door(actor=user, wishes=wishes, description=payload.description)
    return Status(201, DoorOut(task_id=task.pk, wishes=[_wish_detail(user, w.pk) for w in wishes]))


@staff.post("/wishes/{wish_id}/thank", response={200: WishOut, **ERRORS})
def wish_thank(request: HttpRequest, wish_id: int, payload: ThanksIn) -> WishOut:
    """The household's thanks (the claimer is told)."""
    user = _collector(request)
    wish = access.get_wish_for(user, wish_id)
    _may(user, wish, "thank")
    actions.wish_thank(actor=user, wish=wish, thanks=payload.thanks)
    return _wish_detail(user, wish_id)


# --- batches --------------------------------------------------------------------------------


class BatchIn(InputSchema):
    community: str | None = Field(None, description="社区编码；只管一个社区时可省略")
    title: str = Field(min_length=1, max_length=100)
    deliver_by: dt.date = Field(description="送达截止日期")
    per_claimer_limit: int = Field(2, ge=1, le=50, description="每人最多认领")
    note: str = Field("", max_length=2000, description="认领说明（公开）")


class BatchEditIn(InputSchema):
    title: str = Field(min_length=1, max_length=100)
    deliver_by: dt.date
    per_claimer_limit: int = Field(ge=1, le=50)
    note: str = Field("", max_length=2000)


class AddIn(InputSchema):
    wish_ids: list[int] = Field(min_length=1, description="已审核的心愿，按此顺序编号")


class ClaimAsStaffIn(InputSchema):
    wish_id: int
    name: str = Field(min_length=1, max_length=32)
    phone: str = Field(min_length=1, max_length=20)
    work_unit: str = Field(min_length=1, max_length=100)
    kind: ClaimerKind = ClaimerKind.PARTY_MEMBER


class RevealIn(InputSchema):
    reason: str = Field(max_length=200, description="查看原因（记入审计日志）")


class RevealOut(Schema):
    phone: str


def _community_for_write(user: User, code: str | None) -> Community:
    if code:
        try:
            return registry_access.get_community_for(user, code)
        except Http404:
            raise ValidationError(
                {"community": [_("社区“%(code)s”不存在或不在您的管辖范围内") % {"code": code}]}
            ) from None
    area = area_for(user)
    if area.communities is not None and len(area.communities) == 1:
        return Community.objects.get(pk=area.communities[0])
    raise ValidationError({"community": [_("请填写社区编码")]})


@staff.get("/wish-batches", response={200: Page[BatchOut], **ERRORS})
def batch_list(request: HttpRequest, query: Query[PageQuery]) -> Page[BatchOut]:
    user = _reader(request)
    batches = access.visible_batches(user).order_by("-created_at", "-pk")
    return page_of(batches, query, _batch_out)


@staff.post("/wish-batches", response={201: BatchOut, **ERRORS})
def batch_create(request: HttpRequest, payload: BatchIn) -> Status[BatchOut]:
    user = _manager(request)
    community = _community_for_write(user, payload.community)
    batch = actions.batch_create(
        actor=user,
        community=community,
        title=payload.title,
        deliver_by=payload.deliver_by,
        per_claimer_limit=payload.per_claimer_limit,
        note=payload.note,
    )
    return Status(201, _batch_out(batch))


@staff.get("/wish-batches/{batch_id}", response={200: BatchOut, **ERRORS})
def batch_detail(request: HttpRequest, batch_id: int) -> BatchOut:
    user = _reader(request)
    return _batch_out(access.get_batch_for(user, batch_id))


@staff.post("/wish-batches/{batch_id}/edit", response={200: BatchOut, **ERRORS})
def batch_edit(request: HttpRequest, batch_id: int, payload: BatchEditIn) -> BatchOut:
    """Title, deadline, the per-claimer limit and the public note."""
    user = _manager(request)
    batch = actions.batch_update(
        actor=user,
        batch=access.get_batch_for(user, batch_id),
        title=payload.title,
        deliver_by=payload.deliver_by,
        per_claimer_limit=payload.per_claimer_limit,
        note=payload.note,
    )
    return _batch_out(batch)


@staff.post("/wish-batches/{batch_id}/wishes", response={200: BatchOut, **ERRORS})
def batch_add(request: HttpRequest, batch_id: int, payload: AddIn) -> BatchOut:
    """Add approved wishes (into a published batch they are published at once)."""
    user = _manager(request)
    batch = access.get_batch_for(user, batch_id)
    wishes = rest.pick(
        access.visible_wishes(user), payload.wish_ids, field="wish_ids", what=_("心愿")
    )
    with rest.fields_renamed(wishes="wish_ids"):
        actions.batch_add(actor=user, batch=batch, wishes=wishes)
    return _batch_out(batch)


@staff.post("/wish-batches/{batch_id}/wishes/{wish_id}/remove", response={200: BatchOut, **ERRORS})
def batch_remove(request: HttpRequest, batch_id: int, wish_id: int) -> BatchOut:
    user = _manager(request)
    batch = access.get_batch_for(user, batch_id)
    actions.batch_remove(actor=user, batch=batch, wish=access.get_wish_for(user, wish_id))
    return _batch_out(batch)


@staff.post("/wish-batches/{batch_id}/publish", response={200: BatchOut, **ERRORS})
def batch_publish(request: HttpRequest, batch_id: int) -> BatchOut:
    """Open the public claim page /w/{code}/ (print the poster from the batch page)."""
    user = _manager(request)
    return _batch_out(actions.batch_publish(actor=user, batch=access.get_batch_for(user, batch_id)))


@staff.post("/wish-batches/{batch_id}/close", response={200: BatchOut, **ERRORS})
def batch_close(request: HttpRequest, batch_id: int) -> BatchOut:
    """End claiming; unclaimed wishes go back to 已审核."""
    user = _manager(request)
    return _batch_out(actions.batch_close(actor=user, batch=access.get_batch_for(user, batch_id)))


@staff.get("/wish-batches/{batch_id}/claimers", response={200: list[ClaimerOut], **ERRORS})
def batch_claimers(request: HttpRequest, batch_id: int) -> list[ClaimerOut]:
    """Who claimed in this batch (names and phones masked)."""
    user = _manager(request)
    batch = access.get_batch_for(user, batch_id)
    claimers = access.visible_claimers(user).filter(batch=batch).order_by("work_unit", "pk")
    return [_claimer_out(c) for c in claimers]


@staff.post("/wish-batches/{batch_id}/claims", response={201: WishOut, **ERRORS})
def batch_claim_for(
    request: HttpRequest, batch_id: int, payload: ClaimAsStaffIn
) -> Status[WishOut]:
    """Staff enter a claim someone phoned in (same rules as the public page)."""
    user = _manager(request)
    batch = access.get_batch_for(user, batch_id)
    with rest.fields_renamed(wish="wish_id"):
        actions.wish_claim(
            batch=batch,
            wish_id=payload.wish_id,
            data=actions.ClaimInput(
                name=payload.name,
                phone=payload.phone,
                work_unit=payload.work_unit,
                kind=payload.kind.value,
            ),
            actor=user,
            link_base=claim_link_base(request),
        )
    return Status(201, _wish_detail(user, payload.wish_id))


@staff.post("/wish-claimers/{claimer_id}/reveal", response={200: RevealOut, **ERRORS})
def claimer_reveal(request: HttpRequest, claimer_id: int, payload: RevealIn) -> RevealOut:
    """A claimer's phone in full, to call them about a delivery (audited)."""
    user = _manager(request)
    claimer = access.get_claimer_for(user, claimer_id)
    return RevealOut(
        phone=actions.claimer_reveal(actor=user, claimer=claimer, reason=payload.reason)
    )


# --- figures --------------------------------------------------------------------------------


class FiguresQuery(Schema):
    batch_id: int | None = Field(None, description="只看一个批次")


class StatusOut(Schema):
    status: str
    label: str
    wishes: int
    value_fen: int


class TimingOut(Schema):
    batch_id: int
    title: str
    published_at: dt.datetime | None
    wishes: int
    claimed: int
    all_claimed_at: dt.datetime | None
    minutes_to_all_claimed: int | None


class UnitOut(Schema):
    work_unit: str
    claimers: int
    wishes: int
    fulfilled: int


class FiguresOut(Schema):
    by_status: list[StatusOut]
    batches: list[TimingOut]
    by_work_unit: list[UnitOut]


@staff.get("/figures/wishes", response={200: FiguresOut, **ERRORS})
def wish_figures(request: HttpRequest, query: Query[FiguresQuery]) -> FiguresOut:
    """Wishes by status, time from publishing to all claimed, claimers by work unit."""
    user = _reader(request)
    batch = access.get_batch_for(user, query.batch_id) if query.batch_id is not None else None
    figures = figures_for(user, batch)
    return FiguresOut(
        by_status=[StatusOut(**vars(r)) for r in figures.statuses],
        batches=[
            TimingOut(
                batch_id=r.id,
                title=r.title,
                published_at=local_time(r.published_at),
                wishes=r.wishes,
                claimed=r.claimed,
                all_claimed_at=local_time(r.all_claimed_at),
                minutes_to_all_claimed=r.minutes_to_all_claimed,
            )
            for r in figures.batches
        ],
        by_work_unit=[UnitOut(**vars(r)) for r in figures.units],
    )


# --- public ---------------------------------------------------------------------------------


class PublicWishOut(Schema):
    id: int
    number: int
    item: str
    quantity: int
    recipient: str = Field(description="公开描述，不含姓名住址")
    value_fen: int
    status: str
    status_label: str
    claimed_by_unit: str = Field(description="认领人的工作单位（已认领时）")


class PublicBatchOut(Schema):
    title: str
    community: str
    note: str
    deliver_by: dt.date
    per_claimer_limit: int
    status: str
    status_label: str
    wishes: list[PublicWishOut]


class ClaimIn(InputSchema):
    wish_id: int
    name: str = Field(min_length=1, max_length=32, description="姓名")
    phone: str = Field(min_length=1, max_length=20, description="手机号")
    work_unit: str = Field(min_length=1, max_length=100, description="工作单位")
    kind: ClaimerKind = Field(ClaimerKind.PARTY_MEMBER, description="在职党员或志愿者")


class ClaimOut(Schema):
    token: str = Field(description="认领凭据：查看或退回本条认领时使用，只显示这一次")
    wish: PublicWishOut
    deliver_by: dt.date
    live: bool = Field(description="认领有效（未退回）")
    message: str


class ReleaseIn(InputSchema):
    reason: str = Field("", max_length=200)


def _public_wish_out(wish: Wish) -> PublicWishOut:
    return PublicWishOut(
        id=wish.pk,
        number=wish.number,
        item=wish.item,
        quantity=wish.quantity,
        recipient=wish.recipient,
        value_fen=wish.value_fen,
        status=wish.status,
        status_label=wish.get_status_display(),
        claimed_by_unit=wish.claimer.work_unit if wish.claimer else "",
    )


def _limited(request: HttpRequest, group: str) -> None:
    if over_limit(request, group=group, setting="LINLI_WISH_CLAIM_RATE"):
        raise HttpError(429, _("操作过于频繁，请稍后再试。"))


@public.get("/public/wish-batches/{code}", auth=None, response={200: PublicBatchOut, **ERRORS})
def public_batch(request: HttpRequest, code: str) -> PublicBatchOut:
    """A published batch as the QR page shows it: items and public descriptions only."""
    batch = access.public_batch(code)
    with scopes_disabled():
        wishes = list(Wish.objects.public().filter(batch=batch).select_related("claimer"))
    return PublicBatchOut(
        title=batch.title,
        community=batch.community.name,
        note=batch.note,
        deliver_by=batch.deliver_by,
        per_claimer_limit=batch.per_claimer_limit,
        status=batch.status,
        status_label=batch.get_status_display(),
        wishes=[_public_wish_out(w) for w in wishes],
    )


def _claim_out(claim: WishClaim, token: str, message: str) -> ClaimOut:
    with scopes_disabled():
        wish = Wish.objects.select_related("claimer").get(pk=claim.wish_id)
        batch = WishBatch.objects.get(pk=claim.claimer.batch_id)
    return ClaimOut(
        token=token,
        wish=_public_wish_out(wish),
        deliver_by=batch.deliver_by,
        live=claim.released_at is None,
        message=message,
    )


@public.post(
    "/public/wish-batches/{code}/claims",
    auth=None,
    response={201: ClaimOut, **ERRORS, 429: ErrorOut},
)
def public_claim(request: HttpRequest, code: str, payload: ClaimIn) -> Status[ClaimOut]:
    """Claim one wish (no sign-in). Taken already, or this phone at the batch's limit: 400."""
    _limited(request, "api.wish_claim")
    batch = access.public_batch(code)
    with rest.fields_renamed(wish="wish_id"):
        claimed = actions.wish_claim(
            batch=batch,
            wish_id=payload.wish_id,
            data=actions.ClaimInput(
                name=payload.name,
                phone=payload.phone,
                work_unit=payload.work_unit,
                kind=payload.kind.value,
            ),
            link_base=claim_link_base(request),
        )
    message = _("认领成功，请于 %(date)s 前送达") % {"date": batch.deliver_by.isoformat()}
    return Status(201, _claim_out(claimed.claim, claimed.token, message))


@public.get("/public/wish-claims/{token}", auth=None, response={200: ClaimOut, **ERRORS})
def public_claim_detail(request: HttpRequest, token: str) -> ClaimOut:
    claim = access.claim_by_token(token)
    return _claim_out(claim, token, "")


@public.post(
    "/public/wish-claims/{token}/release",
    auth=None,
    response={200: ClaimOut, **ERRORS, 429: ErrorOut},
)
def public_release(request: HttpRequest, token: str, payload: ReleaseIn) -> ClaimOut:
    """Give the wish back: it is open to others again."""
    _limited(request, "api.wish_release")
    access.claim_by_token(token)
    actions.claim_release_by_token(token=token, reason=payload.reason)
    return _claim_out(access.claim_by_token(token), token, _("已退回，谢谢您"))
