"""The registry in the REST API: places, grids, households and residents, within the user's area.

Operations parse, check access (access.py, and the scope every query runs in), call the
actions and render; personal numbers leave only masked, except through the audited reveal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import (
    ObjectDoesNotExist,
    ValidationError,
)
from django.db import transaction
from django.db.models import Count, Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError

from linli.accounts.api import api_user
from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib import rest
from linli.lib.limits import over_limit
from linli.lib.masking import mask_phone
from linli.lib.rest import ERRORS, ErrorOut, InputSchema, Page, PageQuery, page_of
from linli.registry import access, actions, spreadsheets
from linli.registry.choices import CareTag, LivingStatus, Relation, RevealField, Sex
from linli.registry.models import (
    Building,
    CareProfile,
    CareTagAssignment,
    Community,
    Compound,
    EmergencyContact,
    Grid,
    Household,
    ImportBatch,
    Resident,
    ResidentQuerySet,
    Street,
    Unit,
    sort_key,
)
from linli.registry.scope import area_for
from linli.registry.views.imports import (
    ImportUploadForm,
    PendingImport,
    export_register_for,
    importable_communities,
    pending_import_for,
    recent_import_batches,
    xlsx_response,
)

M = TypeVar("M", bound=Model)

router = Router()
me_router = Router(tags=["账号"])
places = Router(tags=["地址"])
grids = Router(tags=["网格"])
people = Router(tags=["户与居民"])
transfers = Router(tags=["导入导出"])
router.add_router("", me_router)
router.add_router("", places)
router.add_router("", grids)
router.add_router("", people)
router.add_router("", transfers)


# --- who may do what ------------------------------------------------------------------------


def can_read_people(user: User) -> bool:
    """People roles see their area; a resident sees their own household (the scope holds it)."""
    return access.can_see_people(user) or (user.is_active and user.role == Role.RESIDENT)


def _places_reader(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_see_people(user), _("您的角色无权查看地址和网格"))
    return user


def _places_editor(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_edit_places(user), _("您的角色无权修改地址和网格"))
    return user


def _people_reader(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(can_read_people(user), _("您的角色无权查看居民信息"))
    return user


def _people_editor(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_edit_people(user), _("您的角色无权修改居民信息"))
    return user


def _one(queryset: QuerySet[M], pk: object) -> M:
    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到，或不在您的管辖范围内")) from None


def _visible_compounds(user: User) -> QuerySet[Compound]:
    compounds = Compound.objects.select_related("community")
    if user.role == Role.GRID_WORKER:
        compounds = compounds.filter(pk__in=access.visible_buildings(user).values("compound_id"))
    return compounds


def _resident_for(user: User, pk: int) -> Resident:
    if user.role == Role.RESIDENT and not access.can_see_people(user):
        # The scope of a resident holds their own household and nothing else.
        return _one(Resident.objects.select_related("household"), pk)
    return access.get_resident_for(user, pk)


def _household_for(user: User, pk: int) -> Household:
    if user.role == Role.RESIDENT and not access.can_see_people(user):
        return _one(Household.objects.select_related("unit__building"), pk)
    return access.get_household_for(user, pk)


def _community_filter(user: User, code: str | None) -> Community | None:
    return access.get_community_for(user, code) if code else None


def _grid_filter(user: User, pk: int | None) -> Grid | None:
    return _one(access.visible_grids(user), pk) if pk is not None else None


def _clean(obj: Model, *, clash_field: str) -> None:
    """full_clean with uniqueness checked against every row, not only the visible ones."""
    try:
        with scopes_disabled():
            obj.full_clean()
    except ValidationError as e:
        if not hasattr(e, "error_dict"):
            raise
        # Django reports a clash on (parent, name) on the record, in words built from
        # verbose names; the API names the field and the value.
        errors: dict[str, list[str]] = {}
        clash = _("“%(value)s”已被使用，请换一个") % {"value": getattr(obj, clash_field)}
        for field, field_errors in e.error_dict.items():
            for error in field_errors:
                if error.code in ("unique", "unique_together"):
                    errors.setdefault(clash_field, []).append(clash)
                else:
                    errors.setdefault(field, []).extend(error.messages)
        raise ValidationError(errors) from e


def _grid_in(community_id: int, pk: int | None, field: str = "grid_id") -> Grid | None:
    if pk is None:
        return None
    grid = Grid.objects.filter(pk=pk, community_id=community_id).first()
    if grid is None:
        raise ValidationError({field: [_("网格不存在或不属于本社区")]})
    return grid


def _text(value: str | None) -> str:
    return (value or "").strip()


# --- the signed-in user ---------------------------------------------------------------------


class PlaceRef(Schema):
    id: int
    code: str
    name: str


class AreaOut(Schema):
    everything: bool = Field(description="系统管理员：不限区域")
    streets: list[PlaceRef]
    communities: list[PlaceRef]
    grids: list[PlaceRef]
    household_id: int | None = Field(description="居民本人所在的户")


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    role_label: str
    is_superuser: bool
    can_see_people: bool
    can_edit_people: bool
    can_edit_places: bool
    area: AreaOut


@me_router.get("/me", response={200: MeOut, **ERRORS})
def me(request: HttpRequest) -> MeOut:
    """Who the token belongs to, their role and the area they may see."""
    user = api_user(request)
    area = area_for(user)
    communities = (
        list(Community.objects.filter(pk__in=area.communities).select_related("street"))
        if area.communities
        else []
    )
    streets = {c.street_id: c.street for c in communities}
    grid_rows = Grid.objects.filter(pk__in=area.grids) if area.grids else Grid.objects.none()
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        role_label=user.get_role_display(),
        is_superuser=user.is_superuser,
        can_see_people=access.can_see_people(user),
        can_edit_people=access.can_edit_people(user),
        can_edit_places=access.can_edit_places(user),
        area=AreaOut(
            everything=area.is_everything,
            streets=[PlaceRef(id=s.pk, code=s.code, name=s.name) for s in streets.values()],
            communities=[PlaceRef(id=c.pk, code=c.code, name=c.name) for c in communities],
            grids=[PlaceRef(id=g.pk, code=g.code, name=g.name) for g in grid_rows],
            household_id=area.households[0] if area.households else None,
        ),
    )


# --- places ---------------------------------------------------------------------------------


class StreetOut(Schema):
    id: int
    name: str
    code: str


class StreetIn(InputSchema):
    name: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=32, description="字母、数字、- 或 _")


class StreetPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=64)
    code: str | None = Field(None, min_length=1, max_length=32)


class CommunityOut(Schema):
    id: int
    name: str
    code: str
    street_id: int
    street_name: str


class CommunityIn(InputSchema):
    street_id: int
    name: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=32, description="字母、数字、- 或 _")


class CommunityPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=64)
    code: str | None = Field(None, min_length=1, max_length=32)


class CompoundOut(Schema):
    id: int
    name: str
    community_id: int
    community_name: str


class CompoundIn(InputSchema):
    community_id: int
    name: str = Field(min_length=1, max_length=64)


class CompoundPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=64)


class BuildingOut(Schema):
    id: int
    name: str
    compound_id: int
    compound_name: str
    community_id: int
    grid_id: int | None


class BuildingIn(InputSchema):
    compound_id: int
    name: str = Field(min_length=1, max_length=32)
    grid_id: int | None = None


class BuildingPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=32)
    grid_id: int | None = Field(None, description="null：移出网格")


class UnitOut(Schema):
    id: int
    name: str
    building_id: int
    building_name: str
    compound_name: str
    community_id: int
    grid_id: int | None = Field(description="单元自己的网格（覆盖楼栋的网格）")
    effective_grid_id: int | None


class UnitIn(InputSchema):
    building_id: int
    name: str = Field(min_length=1, max_length=32)
    grid_id: int | None = None


class UnitPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=32)
    grid_id: int | None = Field(None, description="null：跟随楼栋的网格")


class PlaceQuery(PageQuery):
    q: str | None = Field(None, max_length=50, description="名称包含")
    community: str | None = Field(None, max_length=32, description="社区编码")


class BuildingQuery(PlaceQuery):
    compound: int | None = None
    grid: int | None = None


class UnitQuery(PlaceQuery):
    building: int | None = None
    grid: int | None = Field(None, description="单元所在的网格（含随楼栋划入的）")


def _street_out(street: Street) -> StreetOut:
    return StreetOut(id=street.pk, name=street.name, code=street.code)


def _community_out(community: Community) -> CommunityOut:
    return CommunityOut(
        id=community.pk,
        name=community.name,
        code=community.code,
        street_id=community.street_id,
        street_name=community.street.name,
    )


def _compound_out(compound: Compound) -> CompoundOut:
    return CompoundOut(
        id=compound.pk,
        name=compound.name,
        community_id=compound.community_id,
        community_name=compound.community.name,
    )


def _building_out(building: Building) -> BuildingOut:
    return BuildingOut(
        id=building.pk,
        name=building.name,
        compound_id=building.compound_id,
        compound_name=building.compound.name,
        community_id=building.compound.community_id,
        grid_id=building.grid_id,
    )


def _unit_out(unit: Unit) -> UnitOut:
    return UnitOut(
        id=unit.pk,
        name=unit.name,
        building_id=unit.building_id,
        building_name=unit.building.name,
        compound_name=unit.building.compound.name,
        community_id=unit.building.compound.community_id,
        grid_id=unit.grid_id,
        effective_grid_id=unit.effective_grid_id,
    )


@places.get("/streets", response={200: Page[StreetOut], **ERRORS})
def street_list(request: HttpRequest, query: Query[PageQuery]) -> Page[StreetOut]:
    user = _places_reader(request)
    return page_of(access.visible_streets(user), query, _street_out)


@places.get("/streets/{street_id}", response={200: StreetOut, **ERRORS})
def street_detail(request: HttpRequest, street_id: int) -> StreetOut:
    user = _places_reader(request)
    return _street_out(_one(access.visible_streets(user), street_id))


@places.post("/streets", response={201: StreetOut, **ERRORS})
def street_create(request: HttpRequest, payload: StreetIn) -> Status[StreetOut]:
    user = api_user(request)
    rest.require(user.is_active and user.is_superuser, _("只有系统管理员可以新建街道"))
    street = Street(name=_text(payload.name), code=_text(payload.code))
    _clean(street, clash_field="code")
    street.save()
    return Status(201, _street_out(street))


@places.patch("/streets/{street_id}", response={200: StreetOut, **ERRORS})
def street_update(request: HttpRequest, street_id: int, payload: StreetPatch) -> StreetOut:
    user = _places_editor(request)
    rest.require(user.is_superuser or user.role == Role.STREET_ADMIN, _("您的角色无权修改街道"))
    street = _one(access.visible_streets(user), street_id)
    for name in payload.model_fields_set & {"name", "code"}:
        setattr(street, name, _text(getattr(payload, name)))
    _clean(street, clash_field="code")
    street.save()
    return _street_out(street)


@places.get("/communities", response={200: Page[CommunityOut], **ERRORS})
def community_list(request: HttpRequest, query: Query[PlaceQuery]) -> Page[CommunityOut]:
    user = _places_reader(request)
    communities = access.visible_communities(user).select_related("street")
    if query.q:
        communities = communities.filter(name__contains=query.q)
    if query.community:
        communities = communities.filter(code=query.community)
    return page_of(communities, query, _community_out)


@places.get("/communities/{community_id}", response={200: CommunityOut, **ERRORS})
def community_detail(request: HttpRequest, community_id: int) -> CommunityOut:
    user = _places_reader(request)
    visible = access.visible_communities(user).select_related("street")
    return _community_out(_one(visible, community_id))


@places.post("/communities", response={201: CommunityOut, **ERRORS})
def community_create(request: HttpRequest, payload: CommunityIn) -> Status[CommunityOut]:
    user = _places_editor(request)
    rest.require(
        user.is_superuser or user.role == Role.STREET_ADMIN,
        _("只有系统管理员和街道可以新建社区"),
    )
    street = _one(access.visible_streets(user), payload.street_id)
    community = Community(street=street, name=_text(payload.name), code=_text(payload.code))
    _clean(community, clash_field="code")
    community.save()
    return Status(201, _community_out(community))


@places.patch("/communities/{community_id}", response={200: CommunityOut, **ERRORS})
def community_update(
    request: HttpRequest, community_id: int, payload: CommunityPatch
) -> CommunityOut:
    user = _places_editor(request)
    community = _one(access.visible_communities(user).select_related("street"), community_id)
    for name in payload.model_fields_set & {"name", "code"}:
        setattr(community, name, _text(getattr(payload, name)))
    _clean(community, clash_field="code")
    community.save()
    return _community_out(community)


@places.get("/compounds", response={200: Page[CompoundOut], **ERRORS})
def compound_list(request: HttpRequest, query: Query[PlaceQuery]) -> Page[CompoundOut]:
    user = _places_reader(request)
    compounds = _visible_compounds(user)
    if community := _community_filter(user, query.community):
        compounds = compounds.filter(community=community)
    if query.q:
        compounds = compounds.filter(name__contains=query.q)
    return page_of(compounds, query, _compound_out)


@places.get("/compounds/{compound_id}", response={200: CompoundOut, **ERRORS})
def compound_detail(request: HttpRequest, compound_id: int) -> CompoundOut:
    user = _places_reader(request)
    return _compound_out(_one(_visible_compounds(user), compound_id))


@places.post("/compounds", response={201: CompoundOut, **ERRORS})
def compound_create(request: HttpRequest, payload: CompoundIn) -> Status[CompoundOut]:
    user = _places_editor(request)
    community = _one(access.visible_communities(user), payload.community_id)
    compound = Compound(community=community, name=_text(payload.name))
    _clean(compound, clash_field="name")
    compound.save()
    return Status(201, _compound_out(compound))


@places.patch("/compounds/{compound_id}", response={200: CompoundOut, **ERRORS})
def compound_update(request: HttpRequest, compound_id: int, payload: CompoundPatch) -> CompoundOut:
    user = _places_editor(request)
    compound = _one(_visible_compounds(user), compound_id)
    with transaction.atomic():
        if "name" in payload.model_fields_set:
            compound.name = _text(payload.name)
        _clean(compound, clash_field="name")
        compound.save()
        actions.households_readdress(Q(unit__building__compound=compound))
    return _compound_out(compound)


@places.get("/buildings", response={200: Page[BuildingOut], **ERRORS})
def building_list(request: HttpRequest, query: Query[BuildingQuery]) -> Page[BuildingOut]:
    user = _places_reader(request)
    buildings = access.visible_buildings(user).select_related("compound")
    if community := _community_filter(user, query.community):
        buildings = buildings.filter(compound__community=community)
    if query.compound is not None:
        buildings = buildings.filter(compound=_one(_visible_compounds(user), query.compound))
    if grid := _grid_filter(user, query.grid):
        buildings = buildings.filter(grid=grid)
    if query.q:
        buildings = buildings.filter(name__contains=query.q)
    return page_of(buildings, query, _building_out)


@places.get("/buildings/{building_id}", response={200: BuildingOut, **ERRORS})
def building_detail(request: HttpRequest, building_id: int) -> BuildingOut:
    user = _places_reader(request)
    return _building_out(access.get_building_for(user, building_id))


@places.post("/buildings", response={201: BuildingOut, **ERRORS})
def building_create(request: HttpRequest, payload: BuildingIn) -> Status[BuildingOut]:
    user = _places_editor(request)
    compound = _one(_visible_compounds(user), payload.compound_id)
    building = Building(compound=compound, name=_text(payload.name))
    building.sort_key = sort_key(building.name)
    building.grid = _grid_in(compound.community_id, payload.grid_id)
    _clean(building, clash_field="name")
    building.save()
    return Status(201, _building_out(building))


@places.patch("/buildings/{building_id}", response={200: BuildingOut, **ERRORS})
def building_update(request: HttpRequest, building_id: int, payload: BuildingPatch) -> BuildingOut:
    user = _places_editor(request)
    building = access.get_building_for(user, building_id)
    fields = payload.model_fields_set
    grid = _grid_in(building.compound.community_id, payload.grid_id)
    with transaction.atomic():
        if "name" in fields:
            building.name = _text(payload.name)
            building.sort_key = sort_key(building.name)
        _clean(building, clash_field="name")
        building.save(update_fields=["name", "sort_key"])
        actions.households_readdress(Q(unit__building=building))
        if "grid_id" in fields:
            actions.grid_cover(actor=user, grid=grid, buildings=[building])
            building.grid = grid
    return _building_out(building)


@places.get("/units", response={200: Page[UnitOut], **ERRORS})
def unit_list(request: HttpRequest, query: Query[UnitQuery]) -> Page[UnitOut]:
    user = _places_reader(request)
    units = access.visible_units(user).select_related("building__compound")
    if community := _community_filter(user, query.community):
        units = units.filter(building__compound__community=community)
    if query.building is not None:
        units = units.filter(building=access.get_building_for(user, query.building))
    if grid := _grid_filter(user, query.grid):
        units = units.filter(Q(grid=grid) | Q(grid__isnull=True, building__grid=grid))
    if query.q:
        units = units.filter(name__contains=query.q)
    return page_of(units, query, _unit_out)


@places.get("/units/{unit_id}", response={200: UnitOut, **ERRORS})
def unit_detail(request: HttpRequest, unit_id: int) -> UnitOut:
    user = _places_reader(request)
    return _unit_out(access.get_unit_for(user, unit_id))


@places.post("/units", response={201: UnitOut, **ERRORS})
def unit_create(request: HttpRequest, payload: UnitIn) -> Status[UnitOut]:
    user = _places_editor(request)
    building = access.get_building_for(user, payload.building_id)
    unit = Unit(building=building, name=_text(payload.name))
    unit.sort_key = sort_key(unit.name)
    unit.grid = _grid_in(building.compound.community_id, payload.grid_id)
    _clean(unit, clash_field="name")
    unit.save()
    return Status(201, _unit_out(unit))


@places.patch("/units/{unit_id}", response={200: UnitOut, **ERRORS})
def unit_update(request: HttpRequest, unit_id: int, payload: UnitPatch) -> UnitOut:
    user = _places_editor(request)
    unit = access.get_unit_for(user, unit_id)
    fields = payload.model_fields_set
    grid = _grid_in(unit.building.compound.community_id, payload.grid_id)
    with transaction.atomic():
        if "name" in fields:
            unit.name = _text(payload.name)
            unit.sort_key = sort_key(unit.name)
        _clean(unit, clash_field="name")
        unit.save(update_fields=["name", "sort_key"])
        actions.households_readdress(Q(unit=unit))
        if "grid_id" in fields:
            actions.grid_cover(actor=user, grid=grid, units=[unit])
            unit.grid = grid
    return _unit_out(unit)


# --- grids ----------------------------------------------------------------------------------


class WorkerOut(Schema):
    id: int
    username: str
    display_name: str


class GridOut(Schema):
    id: int
    community_id: int
    name: str
    code: str
    workers: list[WorkerOut]
    building_ids: list[int] = Field(description="整栋划入本网格的楼栋")
    unit_ids: list[int] = Field(description="单独划入本网格的单元")


class GridIn(InputSchema):
    community_id: int
    name: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=32, description="社区内唯一：字母、数字、- 或 _")
    worker_ids: list[int] = Field(default_factory=list, description="网格员的用户 id")
    building_ids: list[int] = Field(default_factory=list)
    unit_ids: list[int] = Field(default_factory=list)


class GridPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=64)
    code: str | None = Field(None, min_length=1, max_length=32)
    worker_ids: list[int] | None = Field(None, description="给出即整体替换")
    building_ids: list[int] | None = Field(None, description="给出即整体替换；未列出的移出本网格")
    unit_ids: list[int] | None = Field(None, description="给出即整体替换；未列出的移出本网格")


class GridQuery(PageQuery):
    community: str | None = Field(None, max_length=32, description="社区编码")


def _grid_out(grid: Grid) -> GridOut:
    return GridOut(
        id=grid.pk,
        community_id=grid.community_id,
        name=grid.name,
        code=grid.code,
        workers=[
            WorkerOut(id=w.pk, username=w.username, display_name=w.display_name)
            for w in grid.workers.all()
        ],
        building_ids=[b.pk for b in grid.buildings.all()],
        unit_ids=[u.pk for u in grid.units.all()],
    )


def _grids_with_members(user: User) -> QuerySet[Grid]:
    return access.visible_grids(user).prefetch_related("workers", "buildings", "units")


def _missing(found: Iterable[Model], wanted: list[int]) -> str:
    seen = {obj.pk for obj in found}
    return ", ".join(str(pk) for pk in wanted if pk not in seen)


def _grid_members(
    grid: Grid, payload: GridIn | GridPatch
) -> tuple[list[User] | None, list[Building] | None, list[Unit] | None]:
    """The workers, buildings and units the payload names, each checked against the community."""
    errors: dict[str, list[str]] = {}
    workers = buildings = units = None
    if payload.worker_ids is not None:
        eligible = access.eligible_grid_workers(grid.community)
        workers = list(eligible.filter(pk__in=payload.worker_ids).order_by("pk"))
        if missing := _missing(workers, payload.worker_ids):
            errors["worker_ids"] = [_("不是本社区的网格员：%(ids)s") % {"ids": missing}]
    if payload.building_ids is not None:
        buildings = list(
            Building.objects.filter(
                pk__in=payload.building_ids, compound__community_id=grid.community_id
            )
        )
        if missing := _missing(buildings, payload.building_ids):
            errors["building_ids"] = [_("楼栋不存在或不属于本社区：%(ids)s") % {"ids": missing}]
    if payload.unit_ids is not None:
        units = list(
            Unit.objects.filter(
                pk__in=payload.unit_ids, building__compound__community_id=grid.community_id
            )
        )
        if missing := _missing(units, payload.unit_ids):
            errors["unit_ids"] = [_("单元不存在或不属于本社区：%(ids)s") % {"ids": missing}]
    if errors:
        raise ValidationError(errors)
    return workers, buildings, units


@grids.get("/grids", response={200: Page[GridOut], **ERRORS})
def grid_list(request: HttpRequest, query: Query[GridQuery]) -> Page[GridOut]:
    user = _places_reader(request)
    found = _grids_with_members(user)
    if community := _community_filter(user, query.community):
        found = found.filter(community=community)
    return page_of(found, query, _grid_out)


@grids.get("/grids/{grid_id}", response={200: GridOut, **ERRORS})
def grid_detail(request: HttpRequest, grid_id: int) -> GridOut:
    user = _places_reader(request)
    return _grid_out(_one(_grids_with_members(user), grid_id))


@grids.post("/grids", response={201: GridOut, **ERRORS})
def grid_create(request: HttpRequest, payload: GridIn) -> Status[GridOut]:
    user = _places_editor(request)
    community = _one(access.visible_communities(user), payload.community_id)
    grid = Grid(community=community, name=_text(payload.name), code=_text(payload.code))
    _clean(grid, clash_field="code")
    workers, buildings, units = _grid_members(grid, payload)
    actions.grid_save(actor=user, grid=grid, workers=workers, buildings=buildings, units=units)
    return Status(201, _grid_out(_one(_grids_with_members(user), grid.pk)))


@grids.patch("/grids/{grid_id}", response={200: GridOut, **ERRORS})
def grid_update(request: HttpRequest, grid_id: int, payload: GridPatch) -> GridOut:
    user = _places_editor(request)
    grid = _one(access.visible_grids(user), grid_id)
    for name in payload.model_fields_set & {"name", "code"}:
        setattr(grid, name, _text(getattr(payload, name)))
    _clean(grid, clash_field="code")
    workers, buildings, units = _grid_members(grid, payload)
    actions.grid_save(actor=user, grid=grid, workers=workers, buildings=buildings, units=units)
    return _grid_out(_one(_grids_with_members(user), grid.pk))


# --- households and residents ---------------------------------------------------------------


class TagOut(Schema):
    code: str
    label: str


class ResidentOut(Schema):
    id: int
    household_id: int
    address: str
    community_id: int
    grid_id: int | None
    name: str
    sex: str
    sex_label: str
    birth_date: dt.date | None
    age: int | None
    id_number_masked: str
    phone_masked: str
    relation: str
    relation_label: str
    living_status: str
    living_status_label: str
    notes: str | None = Field(description="工作人员备注；居民本人看不到（null）")
    care_tags: list[TagOut] | None = Field(description="重点人群标签；居民本人看不到（null）")
    updated_at: dt.datetime


class ResidentDetail(ResidentOut):
    warnings: list[str] = Field(description="不影响保存的疑点：旧行政区划代码、未知号段等")


class ResidentFields(InputSchema):
    sex: Sex | None = None
    birth_date: dt.date | None = None
    id_number: str | None = Field(None, max_length=32, description="18 位身份证号")
    phone: str | None = Field(None, max_length=32, description="11 位手机号")
    relation: Relation | None = None
    living_status: LivingStatus | None = None
    notes: str | None = Field(None, max_length=2000)


class ResidentIn(ResidentFields):
    household_id: int
    name: str = Field(min_length=1, max_length=64)


class ResidentPatch(ResidentFields):
    household_id: int | None = Field(None, description="迁到另一户")
    name: str | None = Field(None, min_length=1, max_length=64)


class ResidentQuery(PageQuery):
    q: str | None = Field(
        None, max_length=50, description="姓名、拼音全拼或首字母、手机尾号 4 位、地址"
    )
    community: str | None = Field(None, max_length=32, description="社区编码")
    grid: int | None = None
    tag: CareTag | None = Field(None, description="重点人群标签")
    household: int | None = None
    on_register: bool | None = Field(None, description="true：只列重点人群台账上的居民")
    living_status: LivingStatus | None = None


class HouseholdOut(Schema):
    id: int
    unit_id: int
    room: str
    address: str
    community_id: int
    grid_id: int | None
    notes: str | None = Field(description="工作人员备注；居民本人看不到（null）")
    resident_count: int


class HouseholdDetail(HouseholdOut):
    residents: list[ResidentOut]


class HouseholdIn(InputSchema):
    unit_id: int
    room: str = Field(min_length=1, max_length=16)
    notes: str = Field("", max_length=2000)


class HouseholdPatch(InputSchema):
    room: str | None = Field(None, min_length=1, max_length=16)
    notes: str | None = Field(None, max_length=2000)


class HouseholdQuery(PageQuery):
    q: str | None = Field(None, max_length=50, description="地址包含")
    community: str | None = Field(None, max_length=32, description="社区编码")
    grid: int | None = None
    building: int | None = None
    unit: int | None = None


class RevealIn(InputSchema):
    field: RevealField
    reason: str = Field(max_length=200, description="查看原因，记入审计日志")


class RevealOut(Schema):
    field: str
    value: str


class ContactIn(InputSchema):
    name: str = Field(max_length=64)
    relation: str = Field("", max_length=32)
    phone: str = Field(max_length=32, description="完整号码；原样提交 GET 返回的掩码号码表示不变")


class ContactOut(Schema):
    name: str
    relation: str
    phone_masked: str


class CareIn(InputSchema):
    tags: list[CareTag] = Field(default_factory=list)
    conditions: str | None = Field(
        None, max_length=2000, description="健康状况；省略则保持不变（读取需 reveal）"
    )
    ltc_level: int | None = Field(None, ge=1, le=6, description="长护险等级 1–6")
    hobbies: str = Field("", max_length=200)
    birthday: dt.date | None = None
    notes: str = Field("", max_length=2000)
    contacts: list[ContactIn] | None = Field(None, description="给出即整体替换；省略则不变")


class CareOut(Schema):
    resident_id: int
    on_register: bool
    tags: list[TagOut]
    conditions_masked: str = Field(description="健康状况（隐去）；全文经 reveal 查看并留痕")
    ltc_level: int | None
    hobbies: str
    birthday: dt.date | None
    notes: str
    contacts: list[ContactOut]
    updated_at: dt.datetime | None


def _tags(resident: Resident) -> list[TagOut]:
    # Sorted in Python so that the prefetched rows are used as they are.
    assignments: list[CareTagAssignment] = getattr(resident, "tag_list", None) or sorted(
        resident.care_tags.all(), key=lambda a: a.tag
    )
    return [TagOut(code=a.tag, label=a.get_tag_display()) for a in assignments]


def _resident_fields(resident: Resident, *, staff: bool) -> dict[str, Any]:
    household = resident.household
    return {
        "id": resident.pk,
        "household_id": resident.household_id,
        "address": household.address,
        "community_id": household.community_id,
        "grid_id": household.grid_id,
        "name": resident.name,
        "sex": resident.sex,
        "sex_label": resident.get_sex_display() if resident.sex else "",
        "birth_date": resident.birth_date,
        "age": resident.age,
        "id_number_masked": resident.masked_id_number,
        "phone_masked": resident.masked_phone,
        "relation": resident.relation,
        "relation_label": resident.get_relation_display(),
        "living_status": resident.living_status,
        "living_status_label": resident.get_living_status_display(),
        "notes": resident.notes if staff else None,
        "care_tags": _tags(resident) if staff else None,
        "updated_at": resident.updated_at,
    }


def _resident_out(resident: Resident, *, staff: bool) -> ResidentOut:
    return ResidentOut(**_resident_fields(resident, staff=staff))


def _resident_detail(user: User, pk: int) -> ResidentDetail:
    resident = _resident_for(user, pk)
    staff = access.can_see_people(user)
    return ResidentDetail(**_resident_fields(resident, staff=staff), warnings=resident.warnings())


def _household_out(household: Household, *, staff: bool) -> HouseholdOut:
    return HouseholdOut(
        id=household.pk,
        unit_id=household.unit_id,
        room=household.room,
        address=household.address,
        community_id=household.community_id,
        grid_id=household.grid_id,
        notes=household.notes if staff else None,
        resident_count=int(getattr(household, "resident_count", 0)),
    )


def _households() -> QuerySet[Household]:
    households: QuerySet[Household] = Household.objects.annotate(
        resident_count=Count("residents")
    ).order_by("address", "pk")
    return households


def _residents() -> ResidentQuerySet:
    found: ResidentQuerySet = Resident.objects.select_related("household").with_tags()
    return found


def _household_detail(user: User, pk: int) -> HouseholdDetail:
    household = _one(_households(), _household_for(user, pk).pk)
    staff = access.can_see_people(user)
    residents = _residents().filter(household=household).order_by("pk")
    return HouseholdDetail(
        **_household_out(household, staff=staff).model_dump(),
        residents=[_resident_out(r, staff=staff) for r in residents],
    )


def _resident_values(payload: ResidentIn | ResidentPatch) -> dict[str, object]:
    """The fields the payload carries, as resident_create/update take them (null clears)."""
    values: dict[str, object] = {}
    for name in payload.model_fields_set & set(actions.RESIDENT_FIELDS):
        value = getattr(payload, name)
        if name == "birth_date":
            values[name] = value
        elif isinstance(value, Sex | Relation | LivingStatus):
            values[name] = value.value
        else:
            values[name] = value or ""
    return values


@people.get("/households", response={200: Page[HouseholdOut], **ERRORS})
def household_list(request: HttpRequest, query: Query[HouseholdQuery]) -> Page[HouseholdOut]:
    user = _people_reader(request)
    staff = access.can_see_people(user)
    households = _households()
    if community := _community_filter(user, query.community):
        households = households.filter(community=community)
    if grid := _grid_filter(user, query.grid):
        households = households.filter(grid=grid)
    if query.building is not None:
        households = households.filter(unit__building=access.get_building_for(user, query.building))
    if query.unit is not None:
        households = households.filter(unit=access.get_unit_for(user, query.unit))
    if query.q:
        households = households.filter(address__contains=query.q.strip())
    return page_of(households, query, lambda h: _household_out(h, staff=staff))


@people.get("/households/{household_id}", response={200: HouseholdDetail, **ERRORS})
def household_detail(request: HttpRequest, household_id: int) -> HouseholdDetail:
    user = _people_reader(request)
    return _household_detail(user, household_id)


@people.post("/households", response={201: HouseholdDetail, **ERRORS})
def household_create(request: HttpRequest, payload: HouseholdIn) -> Status[HouseholdDetail]:
    user = _people_editor(request)
    unit = access.get_unit_for(user, payload.unit_id)
    household = actions.household_create(
        actor=user, unit=unit, room=payload.room, notes=payload.notes
    )
    return Status(201, _household_detail(user, household.pk))


@people.patch("/households/{household_id}", response={200: HouseholdDetail, **ERRORS})
def household_update(
    request: HttpRequest, household_id: int, payload: HouseholdPatch
) -> HouseholdDetail:
    user = _people_editor(request)
    household = access.get_household_for(user, household_id)
    fields = payload.model_fields_set
    actions.household_update(
        actor=user,
        household=household,
        room=_text(payload.room) if "room" in fields else household.room,
        notes=(payload.notes or "") if "notes" in fields else household.notes,
    )
    return _household_detail(user, household.pk)


@people.get("/residents", response={200: Page[ResidentOut], **ERRORS, 429: ErrorOut})
def resident_list(request: HttpRequest, query: Query[ResidentQuery]) -> Page[ResidentOut]:
    """Search and filter as the resident list page does, within the user's area."""
    user = _people_reader(request)
    if over_limit(request, group="api.resident_list", setting="LINLI_SEARCH_RATE"):
        raise HttpError(429, _("操作过于频繁，请稍后再试。"))
    staff = access.can_see_people(user)
    # Registry order, as on the page: the database walks an index instead of sorting.
    residents = _residents().search(query.q or "").order_by("household_id", "pk")
    if community := _community_filter(user, query.community):
        residents = residents.filter(household__community=community)
    if grid := _grid_filter(user, query.grid):
        residents = residents.filter(household__grid=grid)
    if query.tag is not None:
        residents = residents.with_tag(query.tag.value)
    if query.on_register:
        residents = residents.on_register()
    if query.household is not None:
        residents = residents.filter(household=_household_for(user, query.household))
    if query.living_status is not None:
        residents = residents.filter(living_status=query.living_status.value)
    return page_of(residents, query, lambda r: _resident_out(r, staff=staff))


@people.get("/residents/{resident_id}", response={200: ResidentDetail, **ERRORS})
def resident_detail(request: HttpRequest, resident_id: int) -> ResidentDetail:
    user = _people_reader(request)
    return _resident_detail(user, resident_id)


@people.post("/residents", response={201: ResidentDetail, **ERRORS})
def resident_create(request: HttpRequest, payload: ResidentIn) -> Status[ResidentDetail]:
    user = _people_editor(request)
    household = access.get_household_for(user, payload.household_id)
    resident = actions.resident_create(
        actor=user, household=household, values=_resident_values(payload)
    )
    return Status(201, _resident_detail(user, resident.pk))


@people.patch("/residents/{resident_id}", response={200: ResidentDetail, **ERRORS})
def resident_update(
    request: HttpRequest, resident_id: int, payload: ResidentPatch
) -> ResidentDetail:
    user = _people_editor(request)
    resident = access.get_resident_for(user, resident_id)
    values = _resident_values(payload)
    if payload.household_id is not None:
        values["household"] = access.get_household_for(user, payload.household_id)
    actions.resident_update(actor=user, resident=resident, values=values)
    return _resident_detail(user, resident.pk)


@people.post("/residents/{resident_id}/reveal", response={200: RevealOut, **ERRORS})
def resident_reveal(request: HttpRequest, resident_id: int, payload: RevealIn) -> RevealOut:
    """Show one personal number in full; who, whom, when and why go to the audit log."""
    user = _people_reader(request)
    resident = access.get_resident_for(user, resident_id)
    value = actions.resident_reveal(
        actor=user, resident=resident, field=payload.field.value, reason=payload.reason
    )
    return RevealOut(field=payload.field.value, value=value)


def _care_out(resident: Resident) -> CareOut:
    profile = CareProfile.objects.filter(resident=resident).first()
    tags = _tags(resident)
    contacts = EmergencyContact.objects.filter(resident=resident)
    return CareOut(
        resident_id=resident.pk,
        on_register=bool(tags),
        tags=tags,
        conditions_masked=profile.masked_conditions if profile else "",
        ltc_level=profile.ltc_level if profile else None,
        hobbies=profile.hobbies if profile else "",
        birthday=profile.birthday if profile else None,
        notes=profile.notes if profile else "",
        contacts=[
            ContactOut(name=c.name, relation=c.relation, phone_masked=c.masked_phone)
            for c in contacts
        ],
        updated_at=profile.updated_at if profile else None,
    )


@people.get("/residents/{resident_id}/care", response={200: CareOut, **ERRORS})
def care_detail(request: HttpRequest, resident_id: int) -> CareOut:
    """The special-needs record: tags, health conditions, care details, emergency contacts."""
    user = _people_reader(request)
    return _care_out(access.get_resident_for(user, resident_id))


@people.put("/residents/{resident_id}/care", response={200: CareOut, **ERRORS})
def care_update(request: HttpRequest, resident_id: int, payload: CareIn) -> CareOut:
    user = _people_editor(request)
    resident = access.get_resident_for(user, resident_id)
    contacts = None
    if payload.contacts is not None:
        # A contact sent back as GET showed it (masked phone) keeps the number on file.
        on_file = {
            mask_phone(c.phone or ""): c.phone or ""
            for c in EmergencyContact.objects.filter(resident=resident)
        }
        contacts = [
            actions.ContactInput(c.name, c.relation, on_file.get(c.phone, c.phone))
            for c in payload.contacts
        ]
    care = actions.CareInput(
        tags=[t.value for t in payload.tags],
        conditions=payload.conditions,
        ltc_level=payload.ltc_level,
        hobbies=payload.hobbies,
        birthday=payload.birthday,
        notes=payload.notes,
        contacts=contacts,
    )
    actions.care_profile_save(actor=user, resident=resident, care=care)
    return _care_out(access.get_resident_for(user, resident_id))


# --- import and export ----------------------------------------------------------------------
# The same steps as the import pages and the import-residents command: upload (every row
# checked, nothing written), look again, commit the valid rows. The upload waits as the
# page's PendingImport, for its uploader only, and is gone once committed.


def _importer(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_import(user), _("您的角色无权导入居民"))
    return user


class ImportCounts(Schema):
    ok: int = Field(description="正常行数")
    warning: int = Field(description="有警告的行数（仍会导入）")
    error: int = Field(description="有错误的行数（不会导入）")


class ImportRowOut(Schema):
    line: int = Field(description="文件中的行号")
    status: str = Field(description="ok 正常 / warning 有警告，仍会导入 / error 有错误，不导入")
    messages: list[str] = Field(description="错误和警告，每条都写明行号和列名")


class ImportReportOut(Schema):
    token: str = Field(description="确认导入时使用；仅上传者本人可用，导入后失效")
    community: str = Field(description="社区编码")
    filename: str
    counts: ImportCounts
    valid: int = Field(description="确认后将导入的行数（正常 + 警告）")
    new_households: int = Field(description="将新建的户数")
    notes: list[str] = Field(description="整份文件的提示，如不认识而忽略的列")
    rows: list[ImportRowOut]


class ImportCommitQuery(Schema):
    expected_valid: int | None = Field(
        None,
        ge=0,
        description="核对时看到的有效行数；给出且与重新核对的结果不同则返回 409，不写入",
    )


class ImportCreated(Schema):
    residents: int
    households: int
    tags: int = Field(description="重点人群标签")


class ImportCommitOut(Schema):
    batch: int | None = Field(description="导入批次 id：POST /imports/batches/{id}/undo 可撤销")
    community: str
    created: ImportCreated
    skipped: int = Field(description="有错误未导入的行数")
    counts: ImportCounts


def _counts(report: spreadsheets.ImportReport) -> ImportCounts:
    return ImportCounts(ok=report.ok, warning=report.warning, error=report.error)


def _report_out(pending: PendingImport, report: spreadsheets.ImportReport) -> ImportReportOut:
    return ImportReportOut(
        token=pending.token,
        community=report.community.code,
        filename=pending.filename,
        counts=_counts(report),
        valid=report.valid,
        new_households=report.new_households,
        notes=report.notes,
        rows=[ImportRowOut(line=r.line, status=r.status, messages=r.messages) for r in report.rows],
    )


def _file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


@transfers.post("/imports", response={201: ImportReportOut, **ERRORS})
def import_upload(
    request: HttpRequest,
    community: Form[str],
    file: File[UploadedFile],
) -> Status[ImportReportOut]:
    """Upload a spreadsheet of residents: every row is checked, nothing is written yet.

    multipart/form-data: `community` (社区编码) and `file` (.xlsx, or .csv in UTF-8 or GBK).

    Same limits and reasons as the import page (10 MB, 20,000 rows, .xlsx or .csv, the
    template's headers). Commit with POST /imports/{token}/commit.
    """
    user = _importer(request)
    communities = importable_communities(user)
    target = communities.filter(code=community).first()
    if target is None:
        raise Http404(_("未找到社区，或不在您的管辖范围内"))
    form = ImportUploadForm(
        data={"community": target.pk}, files={"file": file}, communities=communities
    )
    if not form.is_valid():
        raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
    data: bytes = form.cleaned_data["data"]
    pending = PendingImport.create(user=user, community=target, filename=file.name or "", data=data)
    report = spreadsheets.residents_preview(community=target, data=data, filename=pending.filename)
    return Status(201, _report_out(pending, report))


@transfers.get("/imports/{token}", response={200: ImportReportOut, **ERRORS})
def import_report(request: HttpRequest, token: str) -> ImportReportOut:
    """The uploaded file checked again, row by row, against the registry as it is now."""
    user = _importer(request)
    pending, community = pending_import_for(user, token)
    try:
        report = spreadsheets.residents_preview(
            community=community, data=pending.read(), filename=pending.filename
        )
    except spreadsheets.SpreadsheetError as e:
        pending.delete()
        raise _file_error(e.message) from None
    return _report_out(pending, report)


@transfers.post("/imports/{token}/commit", response={200: ImportCommitOut, **ERRORS})
def import_commit(
    request: HttpRequest, token: str, query: Query[ImportCommitQuery]
) -> ImportCommitOut:
    """Check the file once more and import its valid rows in one transaction, all or nothing.

    No request body. With ?expected_valid= (the count the report showed), a different count
    now is a 409 and nothing is written. The token works once: after a commit it is gone (404).
    """
    user = _importer(request)
    pending, community = pending_import_for(user, token)
    try:
        report, summary = spreadsheets.residents_import(
            actor=user,
            community=community,
            data=pending.read(),
            filename=pending.filename,
            expected_valid=query.expected_valid,
        )
    except spreadsheets.PreviewChanged as e:
        raise HttpError(409, e.message) from None
    except spreadsheets.ImportRejected as e:
        raise HttpError(409, e.message) from None
    except spreadsheets.SpreadsheetError as e:
        pending.delete()
        raise _file_error(e.message) from None
    if summary.residents == 0:
        raise _file_error(_("没有可导入的有效记录，未写入任何数据"))
    pending.delete()
    return ImportCommitOut(
        batch=summary.batch.pk if summary.batch else None,
        community=community.code,
        created=ImportCreated(
            residents=summary.residents, households=summary.households, tags=summary.tags
        ),
        skipped=summary.skipped,
        counts=_counts(report),
    )


class ImportBatchOut(Schema):
    id: int = Field(description="导入批次 id")
    community: str = Field(description="社区编码")
    filename: str
    created_at: dt.datetime
    created_by: str | None = Field(description="导入人的用户名")
    residents: int = Field(description="导入的居民数")
    households: int = Field(description="新建的户数")
    tags: int = Field(description="重点人群标签数")
    skipped: int = Field(description="有错误未导入的行数")
    undone_at: dt.datetime | None
    undone_by: str | None
    undo_deadline: dt.datetime = Field(description="此时间之前可撤销")
    can_undo: bool = Field(
        description="未撤销且未超过 7 天；导入的居民导入后被修改过时，撤销仍会被拒绝"
    )


class ImportBatchQuery(PageQuery):
    community: str | None = Field(None, max_length=32, description="社区编码")


class ImportUndoOut(Schema):
    batch: int
    removed: ImportCreated = Field(description="删除的居民、户和重点人群标签数")


def _batch_out(batch: ImportBatch) -> ImportBatchOut:
    return ImportBatchOut(
        id=batch.pk,
        community=batch.community.code,
        filename=batch.filename,
        created_at=batch.created_at,
        created_by=batch.created_by.username if batch.created_by else None,
        residents=batch.residents,
        households=batch.households,
        tags=batch.tags,
        skipped=batch.skipped,
        undone_at=batch.undone_at,
        undone_by=batch.undone_by.username if batch.undone_by else None,
        undo_deadline=batch.undo_deadline,
        can_undo=batch.can_undo_now(),
    )


@transfers.get("/imports", response={200: Page[ImportBatchOut], **ERRORS})
def import_batch_list(request: HttpRequest, query: Query[ImportBatchQuery]) -> Page[ImportBatchOut]:
    """Recent imports into the communities of the user's area, newest first."""
    user = _importer(request)
    community = _community_filter(user, query.community)
    return page_of(recent_import_batches(user, community), query, _batch_out)


@transfers.post("/imports/batches/{batch_id}/undo", response={200: ImportUndoOut, **ERRORS})
def import_batch_undo(request: HttpRequest, batch_id: int) -> ImportUndoOut:
    """Undo an import: delete its residents (with their tags) and the households it created
    that are left empty, in one transaction.

    No request body. 400 with the reason when refused (undone already, older than 7 days,
    or a resident of the import changed since — named in the reason); nothing is deleted then.
    """
    user = _importer(request)
    batch = access.get_import_batch_for(user, batch_id)
    try:
        undone = actions.import_undo(actor=user, batch=batch)
    except ValidationError as e:
        raise HttpError(400, "；".join(e.messages)) from None
    return ImportUndoOut(
        batch=batch.pk,
        removed=ImportCreated(
            residents=undone.residents, households=undone.households, tags=undone.tags
        ),
    )


class RegisterExportQuery(Schema):
    community: str | None = Field(None, max_length=32, description="社区编码；省略为管辖范围内全部")
    q: str | None = Field(
        None, max_length=100, description="姓名 / 拼音 / 首字母 / 手机尾号 / 地址"
    )
    grid: int | None = Field(None, description="网格 id")
    tag: CareTag | None = None


XLSX_RESPONSE = {
    "responses": {
        "200": {
            "description": "重点人群台账（.xlsx），身份证号、手机号已脱敏",
            "content": {
                spreadsheets.XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}
            },
        }
    }
}


@transfers.get(
    "/register/export.xlsx",
    response={**ERRORS, 429: ErrorOut},
    openapi_extra=XLSX_RESPONSE,
)
def register_export(request: HttpRequest, query: Query[RegisterExportQuery]) -> HttpResponse:
    """The special-needs register as Excel, filtered as on the register page.

    ID and phone numbers masked, no health text; every export is in the audit log.
    """
    user = api_user(request)
    rest.require(access.can_see_people(user), _("您的角色无权导出台账"))
    if over_limit(request, group="api.register_export", setting="LINLI_EXPORT_RATE"):
        raise HttpError(429, _("操作过于频繁，请稍后再试。"))
    _grid_filter(user, query.grid)  # a grid outside the area: 404, as in the other lists
    params: dict[str, Any] = {
        "community": query.community,
        "q": query.q,
        "grid": query.grid,
        "tag": query.tag.value if query.tag is not None else None,
    }
    export = export_register_for(
        user, {k: v for k, v in params.items() if v not in (None, "")}, via="api"
    )
    return xlsx_response(export.data, export.filename)
