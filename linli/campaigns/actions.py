"""Writes for campaigns: campaigns, rounds, sampling points, exemptions, imports, matching by
hand, and the sweep and door-service tasks. Pages, the API and the CLI call these."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.campaigns import exports
from linli.campaigns.choices import CampaignKind, ExemptionReason, MatchMethod, RoundTaskKind
from linli.campaigns.models import (
    Campaign,
    CampaignRound,
    Exemption,
    RoundTask,
    SampleImport,
    SampleRecord,
    SamplingPoint,
)
from linli.campaigns.reconcile import Match, Matcher, area_filter, door_reasons, tuples
from linli.lib.encryption import blind_index
from linli.lib.identity import check_id_number, check_mobile
from linli.lib.masking import mask_id_number, mask_name, mask_phone
from linli.registry import actions as registry_actions
from linli.registry.choices import RevealField
from linli.registry.models import (
    Building,
    Community,
    Resident,
    Street,
)
from linli.workforce import actions as workforce_actions
from linli.workforce.choices import TAKEN_STATUSES, TaskKind, TaskStatus
from linli.workforce.models import Task

Errors = dict[str, list[str]]


# --- campaigns, rounds, points ----------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    street: Street,
    community: Community | None,
    name: str,
    kind: str,
    notes: str = "",
) -> Campaign:
    errors: Errors = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("请填写活动名称")]
    if kind not in CampaignKind.values:
        errors["kind"] = [_("请选择活动类型")]
    if community is not None and community.street_id != street.pk:
        errors["community"] = [_("社区不属于该街道")]
    if errors:
        raise ValidationError(errors)
    return Campaign.objects.create(
        street=street,
        community=community,
        name=name[:100],
        kind=kind,
        notes=notes.strip(),
        created_by=actor,
    )


@transaction.atomic
def round_create(
    *,
    actor: User,
    campaign: Campaign,
    date: dt.date,
    opens_at: dt.time = dt.time(7, 30),
    closes_at: dt.time = dt.time(11, 30),
    notes: str = "",
) -> CampaignRound:
    if closes_at <= opens_at:
        raise ValidationError({"closes_at": [_("结束时间必须晚于开始时间")]})
    # Lock the campaign so that two rounds created at once get different numbers.
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    last = campaign.rounds.aggregate(n=Max("number"))["n"] or 0
    return CampaignRound.objects.create(
        campaign=campaign,
        number=last + 1,
        date=date,
        opens_at=opens_at,
        closes_at=closes_at,
        notes=notes.strip()[:200],
        created_by=actor,
    )


@transaction.atomic
def point_save(
    *,
    actor: User,
    campaign: Campaign,
    name: str,
    location: str = "",
    opens_at: dt.time = dt.time(7, 30),
    closes_at: dt.time = dt.time(11, 30),
    buildings: Sequence[Building] = (),
    point: SamplingPoint | None = None,
) -> SamplingPoint:
    errors: Errors = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("请填写采样点名称")]
    elif (
        SamplingPoint.objects.filter(campaign=campaign, name=name)
        .exclude(pk=point.pk if point else 0)
        .exists()
    ):
        errors["name"] = [_("本活动已有同名采样点")]
    if closes_at <= opens_at:
        errors["closes_at"] = [_("关闭时间必须晚于开放时间")]
    with scopes_disabled():
        outside = [
            b
            for b in buildings
            if not Building.objects.filter(pk=b.pk).filter(**_building_area(campaign)).exists()
        ]
    if outside:
        errors["buildings"] = [_("%(building)s 不在本活动范围内") % {"building": outside[0]}]
    if errors:
        raise ValidationError(errors)
    point = point or SamplingPoint(campaign=campaign, created_by=actor)
    point.name = name[:64]
    point.location = location.strip()[:160]
    point.opens_at = opens_at
    point.closes_at = closes_at
    point.save()
    point.buildings.set(buildings)
    return point


def _building_area(campaign: Campaign) -> dict[str, int]:
    if campaign.community_id is not None:
        return {"compound__community_id": campaign.community_id}
    return {"compound__community__street_id": campaign.street_id}


# --- exemptions -------------------------------------------------------------------------


def _in_area(campaign: Campaign, resident: Resident) -> bool:
    with scopes_disabled():
        return Resident.objects.filter(area_filter(campaign), pk=resident.pk).exists()


@transaction.atomic
def exemption_save(
    *,
    actor: User,
    campaign: Campaign,
    resident: Resident,
    reason: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    note: str = "",
    exemption: Exemption | None = None,
) -> Exemption:
    """Record (or change) why a resident is not expected between two days."""
    errors: Errors = {}
    if reason not in ExemptionReason.values:
        errors["reason"] = [_("请选择免检原因")]
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = [_("结束日期不能早于开始日期")]
    if reason == ExemptionReason.OTHER and not note.strip():
        errors["note"] = [_("原因为“其他”时请填写备注")]
    if not _in_area(campaign, resident):
        errors["resident"] = [_("该居民不在本活动范围内")]
    if exemption is not None and not exemption.is_active:
        errors["__all__"] = [_("该免检已撤销，不能修改")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    if exemption is None:
        exemption = Exemption(campaign=campaign, resident=resident, created_by=actor)
    exemption.reason = reason
    exemption.starts_on = starts_on
    exemption.ends_on = ends_on
    exemption.note = note.strip()[:200]
    exemption.updated_at = now
    exemption.updated_by = actor
    exemption.save()
    return exemption


@transaction.atomic
def exemption_revoke(*, actor: User, exemption: Exemption) -> Exemption:
    """Take an exemption back (kept, marked revoked): the resident is expected again."""
    if not exemption.is_active:
        raise ValidationError({"__all__": [_("该免检已撤销")]})
    exemption.revoked_at = timezone.now()
    exemption.revoked_by = actor
    exemption.save(update_fields=["revoked_at", "revoked_by"])
    return exemption


# --- import -----------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    row_hash: str
    name: str
    id_index: str
    id_masked: str
    id_valid: bool
    phone_index: str
    phone_masked: str
    sampled_at: dt.datetime | None
    point: str
    tube: str


def _parse_row(line: int, cells: list[str], columns: Mapping[str, int]) -> _Row:
    def cell(field: str) -> str:
        index = columns.get(field)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    raw_id = cell("id_number")
    checked_id = check_id_number(raw_id)
    id_value = checked_id.value or raw_id.replace(" ", "").upper()
    raw_phone = cell("phone")
    phone = check_mobile(raw_phone).value
    # The row's identity: every cell, so the same row always gives the same key (and an
    # edited row a new one). Keyed, since the cells hold an ID number.
    row_hash = blind_index("\x1f".join(c.strip() for c in cells), purpose="campaign_row")
    return _Row(
        line=line,
        row_hash=row_hash,
        name=cell("name")[:64],
        id_index=blind_index(id_value, purpose="id_number") if id_value else "",
        id_masked=mask_id_number(id_value)[:32],
        id_valid=bool(id_value) and not checked_id.errors,
        phone_index=blind_index(phone, purpose="phone") if phone else "",
        phone_masked=mask_phone(phone)[:24],
        sampled_at=exports.parse_when(cell("sampled_at")),
        point=cell("point")[:64],
        tube=cell("tube")[:64],
    )


def _apply(record: SampleRecord, match: Match, campaign: Campaign) -> None:
    person = match.person
    record.resident_id = person[0] if person else None
    record.household_id = person[1] if person else None
    record.community_id = person[2] if person else campaign.community_id
    record.grid_id = person[3] if person else None
    record.method = match.method
    record.unmatched_reason = match.reason
    record.suggestion_id = match.suggestion


@transaction.atomic
def records_import(
    *,
    actor: User,
    round: CampaignRound,
    data: bytes,
    filename: str,
    mapping: Mapping[str, str] | None = None,
) -> SampleImport:
    """Read the export, match each new row, store it; rows imported before are skipped.

    Raises ValidationError on `file` (or on the field whose column is wrong) when the file
    cannot be read or mapped; then nothing is written.
    """
    try:
        sheet = exports.read_export(data, filename)
        chosen = exports.resolve_mapping(
            sheet.headers, round.campaign.column_mapping or {}, mapping or {}
        )
    except exports.ExportError as e:
        raise ValidationError({e.field: [e.message]}) from None
    campaign = Campaign.objects.select_for_update().get(pk=round.campaign_id)
    if campaign.column_mapping != chosen:
        campaign.column_mapping = chosen
        campaign.save(update_fields=["column_mapping"])
    index = {h: n for n, h in enumerate(sheet.headers) if h}
    columns = {field: index[header] for field, header in chosen.items()}

    batch = SampleImport.objects.create(
        round=round,
        filename=filename[:200],
        file_format=sheet.file_format,
        encoding=sheet.encoding,
        rows=len(sheet.rows),
        created_by=actor,
    )
    with scopes_disabled():
        known = set(SampleRecord.objects.filter(round=round).values_list("row_hash", flat=True))
        reached = set(
            SampleRecord.objects.filter(round=round, resident__isnull=False).values_list(
                "resident_id", flat=True
            )
        )
        matcher = Matcher(campaign)
    seen: set[str] = set()
    new: list[SampleRecord] = []
    counts: dict[str, int] = defaultdict(int)
    now = timezone.now()
    for line, cells in sheet.rows:
        row = _parse_row(line, cells, columns)
        if row.row_hash in known:
            counts["already"] += 1
            continue
        if row.row_hash in seen:
            counts["repeated"] += 1
            continue
        seen.add(row.row_hash)
        record = SampleRecord(
            round=round,
            batch=batch,
            row_hash=row.row_hash,
            line=line,
            name=row.name,
            id_number_index=row.id_index,
            id_number_masked=row.id_masked,
            id_number_valid=row.id_valid,
            phone_index=row.phone_index,
            phone_masked=row.phone_masked,
            sampled_at=row.sampled_at,
            point=row.point,
            tube=row.tube,
            matched_at=now,
            matched_by=actor,
        )
        match = matcher.match(row.id_index, row.id_valid, row.name, row.phone_index)
        _apply(record, match, campaign)
        if match.person is None:
            counts["unmatched"] += 1
        else:
            counts[match.method] += 1
            if match.person[0] in reached:
                record.duplicate = True
                counts["duplicates"] += 1
            reached.add(match.person[0])
        new.append(record)
    SampleRecord.objects.bulk_create(new, batch_size=2000)
    batch.added = len(new)
    batch.already = counts["already"]
    batch.repeated = counts["repeated"]
    batch.matched_id = counts[MatchMethod.ID_NUMBER]
    batch.matched_name_phone = counts[MatchMethod.NAME_PHONE]
    batch.unmatched = counts["unmatched"]
    batch.duplicates = counts["duplicates"]
    batch.save()
    return batch


REMATCH_FIELDS = (
    "resident",
    "household",
    "community",
    "grid",
    "method",
    "unmatched_reason",
    "suggestion",
    "duplicate",
    "matched_at",
    "matched_by",
)


@transaction.atomic
def records_rematch(*, actor: User, round: CampaignRound) -> int:
    """Match the round's records again against the registry as it is now (a resident
    registered since, an ID corrected); records matched by hand stay. Returns how many
    records changed. Reads tuples, not model instances, and writes only what changed."""
    campaign = round.campaign
    with scopes_disabled():
        matcher = Matcher(campaign)
        rows = (
            SampleRecord.objects.filter(round=round)
            .order_by("pk")
            .values_list(
                "pk",
                "id_number_index",
                "id_number_valid",
                "name",
                "phone_index",
                "resident_id",
                "method",
                "unmatched_reason",
                "suggestion_id",
                "duplicate",
            )
        )
        by_hand = set(
            SampleRecord.objects.filter(round=round, method=MatchMethod.BY_HAND).values_list(
                "resident_id", flat=True
            )
        )
        reached: set[int] = {pk for pk in by_hand if pk is not None}
        changed = []
        now = timezone.now()
        for row in tuples(rows):
            pk, id_index, valid, name, phone_index, resident, method, reason, hint, dup = row
            if method == MatchMethod.BY_HAND:
                continue
            match = matcher.match(id_index, bool(valid), name, phone_index)
            person = match.person
            duplicate = bool(person and person[0] in reached)
            if person:
                reached.add(person[0])
            after = (
                person[0] if person else None,
                match.method,
                match.reason,
                match.suggestion,
                duplicate,
            )
            if after == (resident, method, reason, hint, bool(dup)):
                continue
            record = SampleRecord(pk=pk, round=round, duplicate=duplicate, matched_at=now)
            _apply(record, match, campaign)
            record.matched_by = actor
            changed.append(record)
        SampleRecord.objects.bulk_update(changed, REMATCH_FIELDS, batch_size=1000)
    return len(changed)


@transaction.atomic
def record_link(*, actor: User, record: SampleRecord, resident: Resident | None) -> SampleRecord:
    """Staff checked an unmatched record by hand: it is this resident (or, with None,
    nobody: back to unmatched)."""
    campaign = record.round.campaign
    if resident is not None and not _in_area(campaign, resident):
        raise ValidationError({"resident": [_("该居民不在本活动范围内")]})
    with scopes_disabled():
        record = SampleRecord.objects.select_for_update().get(pk=record.pk)
        if resident is not None:
            household = resident.household
            record.duplicate = (
                SampleRecord.objects.filter(round_id=record.round_id, resident=resident)
                .exclude(pk=record.pk)
                .exists()
            )
            record.resident = resident
            record.household = household
            record.community_id = household.community_id
            record.grid_id = household.grid_id
            record.method = MatchMethod.BY_HAND
            record.unmatched_reason = ""
        else:
            record.resident = None
            record.household = None
            record.community_id = campaign.community_id
            record.grid_id = None
            record.method = MatchMethod.NONE
            record.unmatched_reason = record.unmatched_reason or "not_registered"
            record.duplicate = False
        record.matched_at = timezone.now()
        record.matched_by = actor
        record.save()
    return record


# --- sweeps and door service ------------------------------------------------------------


def reveal_phone(*, actor: User, resident: Resident, reason: str) -> str:
    """A missing resident's phone in full for the sweep, audited by the registry."""
    return registry_actions.resident_reveal(
        actor=actor, resident=resident, field=RevealField.PHONE, reason=reason
    )


ACTIVE_TASK = (TaskStatus.OPEN, *TAKEN_STATUSES)


def _open_round_tasks(round: CampaignRound, kind: str) -> set[int]:
    """Buildings of the round that already have an unfinished task of this kind."""
    with scopes_disabled():
        return set(
            RoundTask.objects.filter(
                round=round, kind=kind, task__status__in=ACTIVE_TASK
            ).values_list("building_id", flat=True)
        )


def _by_building(residents: Sequence[Resident]) -> dict[Building, list[Resident]]:
    grouped: dict[int, list[Resident]] = defaultdict(list)
    buildings: dict[int, Building] = {}
    for resident in residents:
        building = resident.household.unit.building
        buildings[building.pk] = building
        grouped[building.pk].append(resident)
    return {buildings[pk]: people for pk, people in grouped.items()}


@transaction.atomic
def sweep_tasks_create(
    *, actor: User, round: CampaignRound, missing: Sequence[Resident]
) -> list[Task]:
    """One building-sweep task per building with someone missing (the caller passes the
    missing residents of its scope), unless the building already has one under way.

    The task names rooms, never people: volunteers read tasks."""
    skip = _open_round_tasks(round, RoundTaskKind.SWEEP)
    tasks = []
    for building, people in _by_building(missing).items():
        if building.pk in skip:
            continue
        rooms: dict[str, list[str]] = defaultdict(list)
        for resident in people:
            unit = resident.household.unit.name
            if resident.household.room not in rooms[unit]:
                rooms[unit].append(resident.household.room)
        where = "；".join(f"{unit}：{'、'.join(r)}" for unit, r in rooms.items())
        task = workforce_actions.task_create(
            actor=actor,
            community=building.compound.community,
            kind=TaskKind.BUILDING_SWEEP,
            title=_("扫楼：%(building)s（%(round)s，未采 %(n)d 人）")
            % {"building": building, "round": _round_label(round), "n": len(people)},
            description=_("请上门提醒以下房间的居民到采样点：%(rooms)s") % {"rooms": where},
            buildings=[building],
            size=len(people),
        )
        RoundTask.objects.create(
            round=round,
            task=task,
            kind=RoundTaskKind.SWEEP,
            building=building,
            residents=len(people),
        )
        tasks.append(task)
    return tasks


@transaction.atomic
def door_service_tasks_create(
    *, actor: User, round: CampaignRound, residents: Sequence[Resident]
) -> list[Task]:
    """One door-service task per building for the residents who cannot come down (the
    caller passes reconcile.door_service_residents of its scope): a stop per household,
    the items naming how many and a masked name, so the sampling team knows whom to ask."""
    skip = _open_round_tasks(round, RoundTaskKind.DOOR_SERVICE)
    with scopes_disabled():
        reasons = door_reasons(residents, round.date)
    tasks = []
    for building, people in _by_building(residents).items():
        if building.pk in skip:
            continue
        households: dict[int, list[Resident]] = defaultdict(list)
        for resident in people:
            households[resident.household_id].append(resident)
        stops = [
            workforce_actions.StopInput(
                household=group[0].household,
                items=_("上门采样 %(n)d 人：%(who)s")
                % {
                    "n": len(group),
                    "who": "、".join(f"{mask_name(r.name)}（{reasons[r.pk]}）" for r in group),
                },
            )
            for group in households.values()
        ]
        task = workforce_actions.task_create(
            actor=actor,
            community=building.compound.community,
            kind=TaskKind.DOOR_SERVICE,
            title=_("上门采样：%(building)s（%(round)s，%(n)d 人）")
            % {"building": building, "round": _round_label(round), "n": len(people)},
            description=_("行动不便、无法下楼的居民，请采样组上门采样。"),
            buildings=[building],
            stops=stops,
            size=len(people),
        )
        RoundTask.objects.create(
            round=round,
            task=task,
            kind=RoundTaskKind.DOOR_SERVICE,
            building=building,
            residents=len(people),
        )
        tasks.append(task)
    return tasks


def _round_label(round: CampaignRound) -> str:
    return _("%(campaign)s第%(n)d轮") % {"campaign": round.campaign.name, "n": round.number}
