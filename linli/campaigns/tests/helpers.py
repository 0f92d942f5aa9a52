"""Test data for campaigns: a building full of residents, and exports as CSV or Excel."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence

import openpyxl

from linli.accounts.models import User
from linli.campaigns import actions
from linli.campaigns.models import Campaign, CampaignRound
from linli.lib.identity import compose_id_number
from linli.registry import actions as registry_actions
from linli.registry.models import Community, Household, Resident, Unit
from linli.test import make_place

HEADERS = ["序号", "姓名", "证件号码", "联系电话", "采样时间", "采样点", "试管编码"]


def fill_building(
    actor: User, community: Community, building: str, count: int, *, region: str = "310115"
) -> list[Resident]:
    """`count` residents in 2 units of `building` (阳光小区), 3 to a room, each with a
    distinct ID number (born on successive days from 1960) and phone."""
    units = [make_place(community, "阳光小区", building, f"{n}单元") for n in (1, 2)]
    residents = []
    for n in range(count):
        unit: Unit = units[n % 2]
        room = f"{(n // 6) // 4 + 1}0{(n // 6) % 4 + 1}"
        household = Household.objects.filter(unit=unit, room=room).first()
        if household is None:
            household = registry_actions.household_create(actor=actor, unit=unit, room=room)
        born = dt.date(1960, 1, 1) + dt.timedelta(days=n)
        residents.append(
            registry_actions.resident_create(
                actor=actor,
                household=household,
                values={
                    "name": f"居民{n:03d}",
                    "id_number": compose_id_number(region, born, n % 1000),
                    "phone": f"139{n:08d}",
                },
            )
        )
    return residents


def row_of(resident: Resident, n: int, *, tube: str = "") -> list[str]:
    return [
        str(n),
        resident.name,
        resident.id_number,
        resident.phone,
        f"2022-04-10 08:{n % 60:02d}:00",
        "1号采样点",
        tube or f"T{n:06d}",
    ]


def csv_bytes(rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["核酸采样记录导出"])  # a title line above the headers, as real exports have
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_round(
    actor: User, community: Community, day: dt.date = dt.date(2022, 4, 10)
) -> CampaignRound:
    campaign: Campaign = actions.campaign_create(
        actor=actor,
        street=community.street,
        community=community,
        name="全员核酸筛查",
        kind="mass_testing",
    )
    return actions.round_create(actor=actor, campaign=campaign, date=day)
