"""Supply API: suppliers and packages, rounds with offers, opening, closing (a fair round is
shared out), copying, and care packages (爱心包).

Street admins keep suppliers; round managers (street admins, community staff) run rounds in
their area; a supplier token sees its own supplier, packages and the rounds offering them
(its own offers only) and never a household.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.api import api_user
from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib import rest
from linli.lib.rest import (
    ERRORS,
    InputSchema,
    Page,
    PageQuery,
    aware,
    fields_renamed,
    local_time,
    page_of,
    pick,
)
from linli.registry.choices import CareTag
from linli.registry.models import Community, Street
from linli.supply import access, actions
from linli.supply.choices import Category, Intake, RoundScope, RoundStatus, SupplierKind
from linli.supply.models import CarePlan, Offer, Package, Supplier, SupplyRound

router = Router(tags=["保供"])


def _reader(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(
        access.can_manage_rounds(user)
        or access.can_order_for_others(user)
        or user.role == Role.SUPPLIER,
        _("您的角色无权查看保供轮次"),
    )
    return user


def _supplier_keeper(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_manage_suppliers(user), _("只有街道保供专班可以管理保供单位"))
    return user


def _round_manager(request: HttpRequest, round_id: int) -> tuple[User, SupplyRound]:
    user = api_user(request)
    rest.require(access.can_manage_rounds(user), _("您的角色无权管理保供轮次"))
    round = access.get_round_for(user, round_id)
    access.require_round_manager(user, round)
    return user, round


# --- suppliers and packages ---------------------------------------------------------------


class SupplierOut(Schema):
    id: int
    street_id: int
    name: str
    kind: str
    kind_label: str
    contact_name: str
    contact_phone_masked: str = Field(description="联系电话（已隐藏）")
    community_ids: list[int] = Field(description="服务社区；空表示全街道")
    accounts: list[str] = Field(description="单位账号（用户名）")
    active: bool


class SupplierIn(InputSchema):
    name: str = Field(min_length=1, max_length=100, description="单位名称")
    kind: SupplierKind = Field(description="类型")
    contact_name: str = Field("", max_length=64)
    contact_phone: str = Field("", max_length=20, description="手机号或固定电话")
    community_ids: list[int] = Field(default_factory=list, description="服务社区 id")
    accounts: list[str] = Field(default_factory=list, description="单位账号的用户名")
    active: bool = True
    street_id: int | None = Field(None, description="街道（管辖多个街道时必填）")


class PackageOut(Schema):
    id: int
    supplier_id: int
    name: str
    contents: str
    category: str
    category_label: str
    net_weight_g: int = Field(description="净重（克）")
    price_fen: int = Field(description="价格（分）")
    has_photo: bool
    active: bool


class PackageIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    category: Category
    net_weight_g: int = Field(description="净重（克，整数）")
    price_fen: int = Field(description="价格（分，整数；48.50 元写 4850）")
    contents: str = Field("", max_length=2000, description="内容，每行一项")
    active: bool = True


def _supplier_out(supplier: Supplier) -> SupplierOut:
    return SupplierOut(
        id=supplier.pk,
        street_id=supplier.street_id,
        name=supplier.name,
        kind=supplier.kind,
        kind_label=supplier.get_kind_display(),
        contact_name=supplier.contact_name,
        contact_phone_masked=supplier.masked_contact_phone,
        community_ids=sorted(c.pk for c in supplier.communities.all()),
        accounts=sorted(u.username for u in supplier.accounts.all()),
        active=supplier.active,
    )


def _package_out(package: Package) -> PackageOut:
    return PackageOut(
        id=package.pk,
        supplier_id=package.supplier_id,
        name=package.name,
        contents=package.contents,
        category=package.category,
        category_label=package.get_category_display(),
        net_weight_g=package.net_weight_g,
        price_fen=package.price_fen,
        has_photo=bool(package.photo),
        active=package.active,
    )


def _supplier_input(payload: SupplierIn) -> actions.SupplierInput:
    communities = pick(
        Community.objects.all(), payload.community_ids, field="community_ids", what=_("社区")
    )
    names = list(dict.fromkeys(payload.accounts))
    found = {u.username: u for u in User.objects.filter(username__in=names)}
    missing = [name for name in names if name not in found]
    if missing:
        raise ValidationError({"accounts": [_("没有账号 %(name)s") % {"name": missing[0]}]})
    return actions.SupplierInput(
        name=payload.name,
        kind=payload.kind.value,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        communities=communities,
        accounts=[found[name] for name in names],
        active=payload.active,
    )


@router.get("/suppliers", response={200: Page[SupplierOut], **ERRORS})
def supplier_list(request: HttpRequest, query: Query[PageQuery]) -> Page[SupplierOut]:
    """Suppliers of the user's street; a supplier account: its own."""
    user = _reader(request)
    suppliers = access.visible_suppliers(user).prefetch_related("communities", "accounts")
    return page_of(suppliers.order_by("name"), query, _supplier_out)


@router.post("/suppliers", response={201: SupplierOut, **ERRORS})
def supplier_create(request: HttpRequest, payload: SupplierIn) -> Status[SupplierOut]:
    user = _supplier_keeper(request)
    streets = list(
        Street.objects.filter(pk__in=Community.objects.values("street_id")).values_list(
            "pk", flat=True
        )
    )
    street_id = payload.street_id
    if street_id is None and len(streets) == 1:
        street_id = streets[0]
    if street_id is None or street_id not in streets:
        raise ValidationError({"street_id": [_("请填写街道（须在您的管辖范围内）")]})
    with fields_renamed(communities="community_ids"):
        supplier = actions.supplier_save(
            actor=user, street_id=street_id, data=_supplier_input(payload)
        )
    return Status(201, _supplier_out(supplier))


@router.get("/suppliers/{supplier_id}", response={200: SupplierOut, **ERRORS})
def supplier_detail(request: HttpRequest, supplier_id: int) -> SupplierOut:
    user = _reader(request)
    return _supplier_out(access.get_supplier_for(user, supplier_id))


@router.put("/suppliers/{supplier_id}", response={200: SupplierOut, **ERRORS})
def supplier_update(request: HttpRequest, supplier_id: int, payload: SupplierIn) -> SupplierOut:
    user = _supplier_keeper(request)
    supplier = access.get_supplier_for(user, supplier_id)
    with fields_renamed(communities="community_ids"):
        supplier = actions.supplier_save(
            actor=user,
            street_id=supplier.street_id,
            data=_supplier_input(payload),
            supplier=supplier,
        )
    return _supplier_out(supplier)


@router.get("/suppliers/{supplier_id}/packages", response={200: Page[PackageOut], **ERRORS})
def package_list(
    request: HttpRequest, supplier_id: int, query: Query[PageQuery]
) -> Page[PackageOut]:
    user = _reader(request)
    supplier = access.get_supplier_for(user, supplier_id)
    return page_of(supplier.packages.order_by("category", "name"), query, _package_out)


def _package_input(payload: PackageIn) -> actions.PackageInput:
    return actions.PackageInput(
        name=payload.name,
        category=payload.category.value,
        net_weight_g=payload.net_weight_g,
        price_fen=payload.price_fen,
        contents=payload.contents,
        active=payload.active,
    )


@router.post("/suppliers/{supplier_id}/packages", response={201: PackageOut, **ERRORS})
def package_create(
    request: HttpRequest, supplier_id: int, payload: PackageIn
) -> Status[PackageOut]:
    user = _supplier_keeper(request)
    supplier = access.get_supplier_for(user, supplier_id)
    package = actions.package_save(actor=user, supplier=supplier, data=_package_input(payload))
    return Status(201, _package_out(package))


@router.put("/packages/{package_id}", response={200: PackageOut, **ERRORS})
def package_update(request: HttpRequest, package_id: int, payload: PackageIn) -> PackageOut:
    user = _supplier_keeper(request)
    package = access.get_package_for(user, package_id)
    package = actions.package_save(
        actor=user, supplier=package.supplier, data=_package_input(payload), package=package
    )
    return _package_out(package)


# --- rounds and offers --------------------------------------------------------------------


class OfferOut(Schema):
    id: int
    package_id: int
    package_name: str
    category: str
    supplier_id: int
    supplier_name: str
    stock: int
    remaining: int
    per_household_limit: int
    price_fen: int
    net_weight_g: int
    units_ordered: int = Field(description="已订份数")
    units_allocated: int | None = Field(description="已分配份数（公平分配截单后）")
    order_count: int = Field(description="含此套餐的订单数")


class RoundOut(Schema):
    id: int
    title: str
    scope: str
    scope_label: str
    street_id: int
    community_id: int | None
    compound_id: int | None
    building_id: int | None
    organiser: str | None = Field(description="团长（用户名）")
    opens_at: dt.datetime
    closes_at: dt.datetime
    delivery_date: dt.date
    intake: str
    intake_label: str
    status: str
    status_label: str
    status_changed_at: dt.datetime | None
    status_changed_by: str | None
    copied_from_id: int | None
    created_at: dt.datetime
    created_by: str | None
    order_count: int = Field(description="订单数（保供单位：含其套餐的订单数）")
    offers: list[OfferOut] = Field(description="供应套餐（保供单位：仅其自己的）")


class RoundQuery(PageQuery):
    status: RoundStatus | None = Field(None, description="状态")


class RoundIn(InputSchema):
    title: str = Field(min_length=1, max_length=100)
    scope: RoundScope = Field(
        description="street 全街道、community 社区、compound 小区、building 楼栋团购"
    )
    street_id: int | None = Field(None, description="全街道轮次：街道（管辖多个街道时必填）")
    community_id: int | None = None
    compound_id: int | None = None
    building_id: int | None = None
    organiser: str = Field("", max_length=150, description="团长账号（用户名）")
    opens_at: dt.datetime = Field(description="开始接单（无时区按北京时间）")
    closes_at: dt.datetime = Field(description="截单时间")
    delivery_date: dt.date
    intake: Intake = Field(description="first_come 先到先得、fair 公平分配")


class OfferIn(InputSchema):
    package_id: int
    stock: int = Field(description="库存（份）")
    per_household_limit: int = Field(1, description="每户限购（份）")


class CopyIn(InputSchema):
    opens_at: dt.datetime | None = Field(None, description="新一轮开始接单；默认本轮开始后 2 天")


def _by_name(user: User | None) -> str | None:
    return user.username if user is not None else None


def _round_out(user: User, round: SupplyRound) -> RoundOut:
    offers = list(access.visible_offers(user).filter(round=round))
    counts = access.offer_counts(offers)
    return RoundOut(
        id=round.pk,
        title=round.title,
        scope=round.scope,
        scope_label=round.get_scope_display(),
        street_id=round.street_id,
        community_id=round.community_id,
        compound_id=round.compound_id,
        building_id=round.building_id,
        organiser=_by_name(round.organiser),
        opens_at=timezone_of(round.opens_at),
        closes_at=timezone_of(round.closes_at),
        delivery_date=round.delivery_date,
        intake=round.intake,
        intake_label=round.get_intake_display(),
        status=round.status,
        status_label=round.get_status_display(),
        status_changed_at=local_time(round.status_changed_at),
        status_changed_by=_by_name(round.status_changed_by),
        copied_from_id=round.copied_from_id,
        created_at=timezone_of(round.created_at),
        created_by=_by_name(round.created_by),
        order_count=access.round_order_count(user, round),
        offers=[_offer_out(offer, counts.get(offer.pk, access.OfferCount())) for offer in offers],
    )


def timezone_of(value: dt.datetime) -> dt.datetime:
    shown = local_time(value)
    assert shown is not None  # noqa: S101
    return shown


def _offer_out(offer: Offer, count: access.OfferCount) -> OfferOut:
    return OfferOut(
        id=offer.pk,
        package_id=offer.package_id,
        package_name=offer.package.name,
        category=offer.package.category,
        supplier_id=offer.package.supplier_id,
        supplier_name=offer.package.supplier.name,
        stock=offer.stock,
        remaining=offer.remaining,
        per_household_limit=offer.per_household_limit,
        price_fen=offer.price_fen,
        net_weight_g=offer.net_weight_g,
        units_ordered=count.units,
        units_allocated=count.allocated,
        order_count=count.orders,
    )


@router.get("/rounds", response={200: Page[RoundOut], **ERRORS})
def round_list(request: HttpRequest, query: Query[RoundQuery]) -> Page[RoundOut]:
    """Rounds reaching the user's area; a supplier: the rounds offering its packages."""
    user = _reader(request)
    rounds = access.visible_rounds(user).select_related(
        "organiser", "created_by", "status_changed_by"
    )
    if query.status is not None:
        rounds = rounds.filter(status=query.status.value)
    return page_of(rounds.order_by("-opens_at", "-pk"), query, lambda r: _round_out(user, r))


@router.post("/rounds", response={201: RoundOut, **ERRORS})
def round_create(request: HttpRequest, payload: RoundIn) -> Status[RoundOut]:
    user = api_user(request)
    rest.require(access.can_manage_rounds(user), _("您的角色无权管理保供轮次"))
    with fields_renamed(
        street="street_id", community="community_id", compound="compound_id", building="building_id"
    ):
        place = access.round_place_for(
            user,
            scope=payload.scope.value,
            street_id=payload.street_id,
            community_id=payload.community_id,
            compound_id=payload.compound_id,
            building_id=payload.building_id,
        )
        organiser = access.organiser_for(payload.organiser, place)
        round = actions.round_create(
            actor=user,
            street_id=place.street_id,
            data=actions.RoundInput(
                title=payload.title,
                scope=payload.scope.value,
                opens_at=aware(payload.opens_at),
                closes_at=aware(payload.closes_at),
                delivery_date=payload.delivery_date,
                intake=payload.intake.value,
                community_id=place.community_id,
                compound_id=place.compound_id,
                building_id=place.building_id,
                organiser=organiser,
            ),
        )
    return Status(201, _round_out(user, round))


@router.get("/rounds/{round_id}", response={200: RoundOut, **ERRORS})
def round_detail(request: HttpRequest, round_id: int) -> RoundOut:
    user = _reader(request)
    return _round_out(user, access.get_round_for(user, round_id))


@router.post("/rounds/{round_id}/offers", response={201: RoundOut, **ERRORS})
def offer_add(request: HttpRequest, round_id: int, payload: OfferIn) -> Status[RoundOut]:
    """Offer a package in a draft or open round (stock and a per-household limit)."""
    user, round = _round_manager(request, round_id)
    package = access.packages_for_round(round).filter(pk=payload.package_id).first()
    if package is None:
        raise ValidationError(
            {"package_id": [_("套餐包 %(id)s 不存在或不能用于本轮") % {"id": payload.package_id}]}
        )
    with fields_renamed(package="package_id"):
        actions.offer_add(
            actor=user,
            round=round,
            package=package,
            stock=payload.stock,
            per_household_limit=payload.per_household_limit,
        )
    return Status(201, _round_out(user, round))


@router.post("/rounds/{round_id}/open", response={200: RoundOut, **ERRORS})
def round_open(request: HttpRequest, round_id: int) -> RoundOut:
    user, round = _round_manager(request, round_id)
    return _round_out(user, actions.round_open(actor=user, round=round))


@router.post("/rounds/{round_id}/close", response={200: RoundOut, **ERRORS})
def round_close(request: HttpRequest, round_id: int) -> RoundOut:
    """Stop taking orders; a fair round is shared out at once (status becomes allocated)."""
    user, round = _round_manager(request, round_id)
    return _round_out(user, actions.round_close(actor=user, round=round))


@router.post("/rounds/{round_id}/copy", response={201: RoundOut, **ERRORS})
def round_copy(
    request: HttpRequest, round_id: int, payload: CopyIn | None = None
) -> Status[RoundOut]:
    """The next round (a draft) with the same scope, intake and offers."""
    user, round = _round_manager(request, round_id)
    opens_at = aware(payload.opens_at) if payload and payload.opens_at else None
    copy = actions.round_copy(
        actor=user, round=round, opens_at=opens_at or round.opens_at + dt.timedelta(days=2)
    )
    return Status(201, _round_out(user, copy))


# --- care packages ------------------------------------------------------------------------


class CarePlanIn(InputSchema):
    offer_id: int
    tags: list[str] = Field(
        description="人群标签：" + "、".join(f"{t.value}（{t.label}）" for t in CareTag)
    )
    funder: str = Field(max_length=100, description="出资方")


class CarePlanOut(Schema):
    id: int
    round_id: int
    offer_id: int
    package_name: str
    tags: list[str]
    funder: str
    households: int = Field(description="发放户数")
    created_at: dt.datetime
    created_by: str | None


def _care_out(plan: CarePlan) -> CarePlanOut:
    return CarePlanOut(
        id=plan.pk,
        round_id=plan.round_id,
        offer_id=plan.offer_id,
        package_name=plan.offer.package.name,
        tags=list(plan.tags),
        funder=plan.funder,
        households=plan.households,
        created_at=timezone_of(plan.created_at),
        created_by=_by_name(plan.created_by),
    )


@router.get("/rounds/{round_id}/care-plans", response={200: list[CarePlanOut], **ERRORS})
def care_plan_list(request: HttpRequest, round_id: int) -> list[CarePlanOut]:
    _user, round = _round_manager(request, round_id)
    plans = round.care_plans.select_related("offer__package", "created_by")
    return [_care_out(plan) for plan in plans]


@router.post("/rounds/{round_id}/care-plans", response={201: CarePlanOut, **ERRORS})
def care_plan_apply(
    request: HttpRequest, round_id: int, payload: CarePlanIn
) -> Status[CarePlanOut]:
    """爱心包: one free unit of the offer for every household of the round with a resident
    carrying any of the tags; households that already have the offer are skipped."""
    user, round = _round_manager(request, round_id)
    offer = round.offers.select_related("package").filter(pk=payload.offer_id).first()
    if offer is None:
        raise ValidationError(
            {"offer_id": [_("供应 %(id)s 不在本轮中") % {"id": payload.offer_id}]}
        )
    with fields_renamed(offer="offer_id"):
        plan = actions.care_plan_apply(
            actor=user, round=round, offer=offer, tags=payload.tags, funder=payload.funder
        )
    return Status(201, _care_out(plan))
