"""Writes to the registry that touch several rows or leave an audit record.

Pages, the API and the CLI all come through these functions; each runs in one
transaction and says who acted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, ProtectedError, Q, RestrictedError
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.registry.choices import CareTag, RevealField
from linli.registry.models import (
    Building,
    CareProfile,
    CareTagAssignment,
    Community,
    EmergencyContact,
    Grid,
    Household,
    ImportBatch,
    Resident,
    Unit,
)

RESIDENT_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "id_number",
    "phone",
    "relation",
    "living_status",
    "notes",
)


@transaction.atomic
def household_create(*, actor: User | None, unit: Unit, room: str, notes: str = "") -> Household:
    # Fresh from the database: the grid may have changed since the caller loaded the unit.
    unit = Unit._base_manager.select_related("building__compound").get(pk=unit.pk)
    household = Household(room=room.strip(), notes=notes)
    household.place_in(unit)
    household.full_clean(exclude=["community", "unit"])
    with scopes_disabled():
        taken = Household.objects.filter(unit=unit, room=household.room).exists()
    if taken:
        raise ValidationError({"room": [_("该单元已有房号 %(room)s") % {"room": household.room}]})
    household.save()
    return household


@transaction.atomic
def household_update(*, actor: User, household: Household, room: str, notes: str) -> Household:
    household.room = room.strip()
    household.notes = notes
    household.place_in(household.unit)
    with scopes_disabled():
        clash = Household.objects.filter(unit_id=household.unit_id, room=household.room)
        taken = clash.exclude(pk=household.pk).exists()
    if taken:
        raise ValidationError({"room": [_("该单元已有房号 %(room)s") % {"room": household.room}]})
    household.updated_at = timezone.now()
    household.save()
    return household


def _apply(resident: Resident, values: dict[str, object]) -> None:
    for name in RESIDENT_FIELDS:
        if name in values:
            value = values[name]
            if isinstance(value, str) and name not in ("notes",):
                value = value.strip()
            setattr(resident, name, value)


@transaction.atomic
def resident_create(
    *, actor: User | None, household: Household, values: dict[str, object]
) -> Resident:
    """Register a resident; raises ValidationError with per-field reasons."""
    resident = Resident(household=household, created_by=actor, updated_by=actor)
    _apply(resident, values)
    resident.refresh_search()
    resident.full_clean()
    resident.save()
    return resident


@transaction.atomic
def resident_update(*, actor: User, resident: Resident, values: dict[str, object]) -> Resident:
    if "household" in values:
        household = values["household"]
        assert isinstance(household, Household)  # noqa: S101
        resident.household = household
    _apply(resident, values)
    resident.refresh_search()
    resident.full_clean()
    resident.updated_by = actor
    resident.updated_at = timezone.now()
    resident.save()
    return resident


@transaction.atomic
def resident_reveal(*, actor: User, resident: Resident, field: str, reason: str) -> str:
    """Show one personal field (ID, phone, health) in full, with an audit record of who,
    whom, which field, when and why."""
    if field not in RevealField.values:
        raise ValidationError({"field": [_("不能查看该字段")]})
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("请填写查看原因")]})
    LogEntry.objects.log_create(
        resident,
        action=LogEntry.Action.ACCESS,
        changes={},
        actor=actor,
        additional_data={"field": field, "reason": reason[:200]},
        force_log=True,
    )
    if field == RevealField.CONDITIONS:
        profile = CareProfile._base_manager.filter(resident=resident).first()
        return profile.conditions if profile else ""
    value: str = getattr(resident, field) or ""
    return value


@dataclass
class ContactInput:
    name: str
    relation: str
    phone: str


@dataclass
class CareInput:
    tags: Sequence[str] = ()
    # Health text is never sent back to the page, so None means "keep what is on file".
    conditions: str | None = None
    ltc_level: int | None = None
    hobbies: str = ""
    birthday: dt.date | None = None
    notes: str = ""
    contacts: Sequence[ContactInput] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


@transaction.atomic
def care_profile_save(*, actor: User, resident: Resident, care: CareInput) -> CareProfile:
    """Put a resident on (or update them in) the special-needs register."""
    from linli.lib.identity import check_mobile

    errors: dict[str, list[str]] = {}
    unknown = [t for t in care.tags if t not in CareTag.values]
    if unknown:
        errors["tags"] = [_("未知的重点人群标签：%(tags)s") % {"tags": "、".join(unknown)}]
    contacts: list[ContactInput] = []
    for number, contact in enumerate(care.contacts or [], start=1):
        checked = check_mobile(contact.phone)
        if not contact.name.strip():
            errors.setdefault("contacts", []).append(
                _("第%(n)d位紧急联系人缺少姓名") % {"n": number}
            )
        if checked.errors or not checked.value:
            errors.setdefault("contacts", []).append(
                _("第%(n)d位紧急联系人电话无效") % {"n": number}
            )
        contacts.append(ContactInput(contact.name.strip(), contact.relation.strip(), checked.value))
    profile = CareProfile.objects.filter(resident=resident).first() or CareProfile(
        resident=resident, recorded_by=actor
    )
    if care.conditions is not None:
        profile.conditions = care.conditions
    profile.ltc_level = care.ltc_level
    profile.hobbies = care.hobbies
    profile.birthday = care.birthday
    profile.notes = care.notes
    profile.updated_by = actor
    profile.updated_at = timezone.now()
    try:
        profile.full_clean(exclude=["resident"])
    except ValidationError as e:
        for name, messages in e.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    profile.save()
    care_tags_set(actor=actor, resident=resident, tags=care.tags)
    if care.contacts is not None:
        EmergencyContact.objects.filter(resident=resident).delete()
        for contact in contacts:
            EmergencyContact.objects.create(
                resident=resident,
                name=contact.name,
                relation=contact.relation,
                phone=contact.phone,
                recorded_by=actor,
            )
    return profile


def care_tags_set(*, actor: User, resident: Resident, tags: Iterable[str]) -> None:
    wanted = set(tags)
    current = {a.tag: a for a in CareTagAssignment.objects.filter(resident=resident)}
    for tag, assignment in current.items():
        if tag not in wanted:
            assignment.delete()
    for tag in sorted(wanted - current.keys()):
        CareTagAssignment.objects.create(resident=resident, tag=tag, recorded_by=actor)


@transaction.atomic
def grid_cover(
    *,
    actor: User,
    grid: Grid | None,
    buildings: Iterable[Building] = (),
    units: Iterable[Unit] = (),
) -> int:
    """Put buildings and units into a grid (None takes them out); returns households moved."""
    building_ids = [b.pk for b in buildings]
    unit_ids = [u.pk for u in units]
    for building in Building.objects.filter(pk__in=building_ids):
        building.grid = grid
        building.save(update_fields=["grid"])
    for unit in Unit.objects.filter(pk__in=unit_ids):
        unit.grid = grid
        unit.save(update_fields=["grid"])
    return households_regrid(Q(unit__building_id__in=building_ids) | Q(unit_id__in=unit_ids))


def households_regrid(where: Q) -> int:
    """Recompute the copied grid of the households matching `where`."""
    moved = 0
    with scopes_disabled():
        households = Household.objects.filter(where).select_related("unit__building")
        for household in households:
            grid_id = household.unit.grid_id or household.unit.building.grid_id
            if household.grid_id != grid_id:
                household.grid_id = grid_id
                household.save(update_fields=["grid"])
                moved += 1
    return moved


def households_readdress(where: Q) -> int:
    """Rewrite the address copied onto the households matching `where` (after a rename)."""
    changed = []
    with scopes_disabled():
        households = Household.objects.filter(where).select_related("unit__building__compound")
        for household in households:
            before = household.address
            household.place_in(household.unit)
            if household.address != before:
                changed.append(household)
        Household.objects.bulk_update(changed, ["address"], batch_size=500)
    return len(changed)


@transaction.atomic
def grid_save(
    *,
    actor: User,
    grid: Grid,
    workers: Iterable[User] | None = None,
    buildings: Iterable[Building] | None = None,
    units: Iterable[Unit] | None = None,
) -> Grid:
    """Save a (cleaned) grid with its workers and exactly the buildings and units it covers.

    None leaves that part as it is; a building or unit left out is taken out of the grid.
    """
    grid.save()
    if workers is not None:
        grid.workers.set(list(workers))
    if buildings is not None:
        wanted_buildings = list(buildings)
        keep = {b.pk for b in wanted_buildings}
        dropped_buildings = [b for b in Building.objects.filter(grid=grid) if b.pk not in keep]
        grid_cover(actor=actor, grid=None, buildings=dropped_buildings)
        grid_cover(actor=actor, grid=grid, buildings=wanted_buildings)
    if units is not None:
        wanted_units = list(units)
        keep = {u.pk for u in wanted_units}
        dropped_units = [u for u in Unit.objects.filter(grid=grid) if u.pk not in keep]
        grid_cover(actor=actor, grid=None, units=dropped_units)
        grid_cover(actor=actor, grid=grid, units=wanted_units)
    return grid


@dataclass(frozen=True)
class UndoSummary:
    residents: int
    households: int
    tags: int


def _names(residents: Sequence[Resident], total: int, reason: str) -> str:
    shown = "、".join(r.name for r in residents[:5])
    more = _("等 %(n)d 人") % {"n": total} if total > 5 else ""
    return _("%(names)s%(more)s（%(reason)s）") % {"names": shown, "more": more, "reason": reason}


def _changed_since_import(batch: ImportBatch) -> list[str]:
    """What was done to the batch's residents after the import, in words; empty if nothing."""
    residents = Resident._base_manager.filter(import_batch=batch).order_by("pk")
    later_tags = CareTagAssignment._base_manager.filter(resident_id=OuterRef("pk")).exclude(
        import_batch=batch
    )
    checks = (
        (residents.filter(updated_at__gt=batch.created_at), _("信息已修改")),
        (residents.filter(Exists(later_tags)), _("已添加重点人群标签")),
        (residents.filter(care_profile__isnull=False), _("已建关爱档案")),
        (residents.filter(emergency_contacts__isnull=False).distinct(), _("已添加紧急联系人")),
        (residents.filter(user__isnull=False), _("已关联居民账号")),
    )
    reasons = []
    for queryset, reason in checks:
        found = list(queryset.only("pk", "name")[:6])
        if found:
            total = len(found) if len(found) <= 5 else queryset.count()
            reasons.append(_names(found, total, reason))
    kept = CareTagAssignment._base_manager.filter(import_batch=batch).count()
    if kept < batch.tags:
        reasons.append(_("有 %(n)d 个导入的重点人群标签已被删除") % {"n": batch.tags - kept})
    return reasons


@transaction.atomic
def import_undo(*, actor: User | None, batch: ImportBatch) -> UndoSummary:
    """Take back everything an import wrote, if nobody has built on it since.

    Deletes the batch's residents (their tags go with them) and the households it created
    that are left empty; households that existed before, or that someone has since put
    residents into, stay. Refused, writing nothing, when the batch is undone already, is
    older than ImportBatch.UNDO_DAYS, or any of its residents was changed after the import.

    The per-row DELETE entries are auditlog's own, with the actor the front end set
    (AuditlogMiddleware for pages and the API, set_actor in commands); the summary on the
    community is written here, counts only.
    """
    with scopes_disabled():  # every query below is limited to the batch's own rows
        batch = ImportBatch._base_manager.select_for_update().get(pk=batch.pk)
        if batch.undone_at is not None:
            who = batch.undone_by.username if batch.undone_by else _("系统")
            raise ValidationError(
                _("该批导入已于 %(when)s 由 %(who)s 撤销，不能重复撤销")
                % {"when": _local(batch.undone_at), "who": who}
            )
        if timezone.now() > batch.undo_deadline:
            raise ValidationError(
                _("该批导入于 %(when)s 导入，已超过 %(days)d 天，不能撤销；请逐条修改或删除")
                % {"when": _local(batch.created_at), "days": ImportBatch.UNDO_DAYS}
            )
        changed = _changed_since_import(batch)
        if changed:
            raise ValidationError(
                _("以下居民在导入后已有改动，不能撤销本次导入：%(reasons)s")
                % {"reasons": "；".join(changed)}
            )
        started = timezone.now()
        try:
            # A queryset delete still sends post_delete per row: auditlog writes a DELETE
            # entry for each resident and each tag that goes with it.
            _count, removed = Resident._base_manager.filter(import_batch=batch).delete()
            occupied = Resident._base_manager.filter(household_id=OuterRef("pk"))
            empty = Household._base_manager.filter(import_batch=batch).exclude(Exists(occupied))
            _count, removed_households = empty.delete()
        except (ProtectedError, RestrictedError) as e:
            raise ValidationError(
                _("本次导入的居民或户已被其他记录引用（如订单、工单），不能撤销")
            ) from e
        summary = UndoSummary(
            residents=removed.get(Resident._meta.label, 0),
            households=removed_households.get(Household._meta.label, 0),
            tags=removed.get(CareTagAssignment._meta.label, 0),
        )
        # Auditlog knows the actor only inside a request or set_actor(); a caller without
        # either (a script) must not leave the deletions unattributed.
        LogEntry.objects.filter(
            action=LogEntry.Action.DELETE, actor__isnull=True, timestamp__gte=started
        ).update(actor=actor)
        batch.undone_at = timezone.now()
        batch.undone_by = actor
        batch.save(update_fields=["undone_at", "undone_by"])
        community = Community._base_manager.get(pk=batch.community_id)
    LogEntry.objects.log_create(
        community,
        action=LogEntry.Action.UPDATE,
        changes={},
        actor=actor,
        additional_data={
            "import": "residents",
            "undo": True,
            "batch": batch.pk,
            "residents": summary.residents,
            "households": summary.households,
            "tags": summary.tags,
        },
        force_log=True,
    )
    return summary


def _local(moment: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


PERSONAL_DATA_MODELS: tuple[type[Resident] | type[EmergencyContact] | type[CareProfile], ...] = (
    Resident,
    EmergencyContact,
    CareProfile,
)


def personal_data_rotate(*, reindex: bool = False, batch_size: int = 1000) -> dict[str, int]:
    """Re-encrypt every personal field with the newest key (and, if asked, rebuild the
    blind indexes with the current index key). Returns rows rewritten per model.

    Reading decrypts with any listed key and writing encrypts with the first, so after this
    the older keys can be dropped from LINLI_FIELD_KEYS. Each batch is its own transaction:
    a run that stops half-way leaves every row readable and can simply be run again.
    """
    from linli.lib.encryption import encrypted_fields

    rewritten: dict[str, int] = {}
    for model in PERSONAL_DATA_MODELS:
        fields = encrypted_fields(model)
        if reindex and model is Resident:
            fields += ["id_number_index", "phone_index"]
        ids = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), batch_size):
            with transaction.atomic():
                rows = list(model._base_manager.filter(pk__in=ids[start : start + batch_size]))
                for row in rows:
                    if isinstance(row, Resident) and reindex:
                        row.set_personal_numbers(id_number=row.id_number, phone=row.phone)
                model._base_manager.bulk_update(rows, fields)  # type: ignore[arg-type]
        rewritten[model._meta.label] = len(ids)
    return rewritten


@transaction.atomic
def community_rules_set(
    *,
    actor: User,
    community: Community,
    volunteer_test_required: bool,
    volunteer_test_hours: int,
    goods_hold_minutes: int,
) -> Community:
    """The community's field-work rules (volunteers' negative test, goods disinfection hold).

    The change is in the audit history (Community is registered with auditlog); the actor is
    the one auditlog knows (the request's user, or set_actor in a command).
    """
    errors: dict[str, list[str]] = {}
    if not 1 <= volunteer_test_hours <= 336:
        errors["volunteer_test_hours"] = [_("核酸阴性有效时长应在 1 到 336 小时之间")]
    if not 0 <= goods_hold_minutes <= 1440:
        errors["goods_hold_minutes"] = [_("静置时长应在 0 到 1440 分钟之间")]
    if errors:
        raise ValidationError(errors)
    community.volunteer_test_required = volunteer_test_required
    community.volunteer_test_hours = volunteer_test_hours
    community.goods_hold_minutes = goods_hold_minutes
    community.save(
        update_fields=["volunteer_test_required", "volunteer_test_hours", "goods_hold_minutes"]
    )
    return community
