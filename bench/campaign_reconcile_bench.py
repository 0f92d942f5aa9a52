"""Reconciling a campaign round: the registry's expected residents against the imported records.

    .venv/bin/python bench/campaign_reconcile_bench.py [--sizes 100000,1000000]

A size N means N expected residents (living, in 10 communities of one street, 3 to a
household, 18 households to a unit, 2 units to a building, 10 grids per community) and a
street-wide round with 0.95 × N sample records: 94% of the residents by ID number, 1% by
name + phone, plus visitors (0.5% of N) and typos (0.5% of N, unmatched); 1% of the
residents are exempted on the round's day. Built straight into a fresh SQLite database
(WAL, in a temporary LINLI_DATA_DIR) with bulk_create and the records already matched,
as an import leaves them (not timed). Then timed:

  rematch     actions.records_rematch: every record matched again in memory over the area's
              blind-index dictionaries (one query for the residents, one for the records);
              finds 0 changes, writes nothing
  completion  reconcile.round_figures + reconcile.completion by building: the SQL
              anti-join (expected NOT EXISTS exempt, NOT EXISTS reached) grouped
  missing     the ids of every missing resident (reconcile.missing_residents), in sweep order
  reconcile   the three together: what "reconcile the round" costs here
  polars      the same two joins in bare polars on the same database in the same run:
              load (pl.read_database over sqlite3) and join (records ⋈ residents on the ID
              index, then expected ▷ reached anti-join, exemptions removed), timed apart

Prints a markdown table and the raw figures as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMUNITIES = 10
GRIDS = 10
PER_HOUSEHOLD = 3
ROOMS_PER_UNIT = 18
UNITS = 2


def build_world(expected: int) -> dict[str, int]:
    import datetime as dt

    from django.db import transaction

    from linli.accounts.models import User
    from linli.campaigns import actions
    from linli.campaigns.choices import MatchMethod, Unmatched
    from linli.campaigns.models import Exemption, SampleImport, SampleRecord
    from linli.lib.encryption import blind_index
    from linli.registry.models import (
        Building,
        Community,
        Compound,
        Grid,
        Household,
        Resident,
        Street,
        Unit,
    )

    day = dt.date(2022, 4, 10)
    households_wanted = -(-expected // PER_HOUSEHOLD)
    buildings_wanted = -(-households_wanted // (ROOMS_PER_UNIT * UNITS))
    with transaction.atomic():
        admin = User.objects.create_superuser("bench", password="bench-password-1")  # noqa: S106
        street = Street.objects.create(name="和平街道", code="heping")
        communities = Community.objects.bulk_create(
            Community(street=street, name=f"第{i + 1}社区", code=f"c{i + 1}")
            for i in range(COMMUNITIES)
        )
        grids = Grid.objects.bulk_create(
            Grid(community=c, name=f"第{g + 1}网格", code=f"g{g + 1}")
            for c in communities
            for g in range(GRIDS)
        )
        compounds = Compound.objects.bulk_create(
            Compound(community=c, name=f"{c.name}小区") for c in communities
        )
        buildings = Building.objects.bulk_create(
            (
                Building(
                    compound=compounds[i % COMMUNITIES],
                    name=f"{i // COMMUNITIES + 1}号楼",
                    sort_key=i // COMMUNITIES + 1,
                    grid=grids[(i % COMMUNITIES) * GRIDS + (i // COMMUNITIES) % GRIDS],
                )
                for i in range(buildings_wanted)
            ),
            batch_size=5000,
        )
        units = Unit.objects.bulk_create(
            (
                Unit(building=b, name=f"{u + 1}单元", sort_key=u + 1)
                for b in buildings
                for u in range(UNITS)
            ),
            batch_size=5000,
        )
        households: list[Household] = []
        for unit in units:
            building = unit.building
            for r in range(ROOMS_PER_UNIT):
                if len(households) == households_wanted:
                    break
                room = f"{r // 2 + 1}0{r % 2 + 1}"
                households.append(
                    Household(
                        unit=unit,
                        room=room,
                        room_sort_key=int(room),
                        community_id=building.compound.community_id,
                        grid_id=building.grid_id,
                        address=f"{building.compound.name}{building.name}{unit.name}{room}",
                    )
                )
        Household.objects.bulk_create(households, batch_size=5000)
        ids = [f"3101{n:014d}" for n in range(expected)]
        phones = [f"139{n:08d}" for n in range(expected)]
        Resident.objects.bulk_create(
            (
                Resident(
                    household=households[n // PER_HOUSEHOLD],
                    name=f"居民{n}",
                    id_number_index=blind_index(ids[n], purpose="id_number"),
                    phone_index=blind_index(phones[n], purpose="phone"),
                    phone_last4=phones[n][-4:],
                )
                for n in range(expected)
            ),
            batch_size=5000,
        )
        campaign = actions.campaign_create(
            actor=admin, street=street, community=None, name="全员核酸", kind="mass_testing"
        )
        the_round = actions.round_create(actor=admin, campaign=campaign, date=day)
        residents = list(
            Resident.objects.order_by("pk").values_list(
                "pk", "household_id", "household__community_id", "household__grid_id"
            )
        )
        Exemption.objects.bulk_create(
            (
                Exemption(campaign=campaign, resident_id=r[0], reason="away", starts_on=day)
                for r in residents[::100]
            ),
            batch_size=5000,
        )
        batch = SampleImport.objects.create(round=the_round, file_format="csv", created_by=admin)
        records_wanted = round(expected * 0.95)
        strangers = expected // 100  # half visitors, half typos
        reached = records_wanted - strangers
        by_phone = expected // 100

        def record(n: int) -> SampleRecord:
            if n < reached:
                pk, household, community, grid = residents[n]
                by_id = n >= by_phone
                return SampleRecord(
                    round=the_round,
                    batch=batch,
                    row_hash=f"r{n}",
                    line=n + 2,
                    name=f"居民{n}",
                    id_number_index=blind_index(ids[n], purpose="id_number") if by_id else "",
                    phone_index=blind_index(phones[n], purpose="phone"),
                    resident_id=pk,
                    household_id=household,
                    community_id=community,
                    grid_id=grid,
                    method=MatchMethod.ID_NUMBER if by_id else MatchMethod.NAME_PHONE,
                )
            visitor = n % 2 == 0
            return SampleRecord(
                round=the_round,
                batch=batch,
                row_hash=f"r{n}",
                line=n + 2,
                name=f"访客{n}",
                id_number_index=blind_index(f"4401{n:014d}", purpose="id_number"),
                id_number_valid=visitor,
                unmatched_reason=Unmatched.NOT_REGISTERED if visitor else Unmatched.INVALID_ID,
            )

        SampleRecord.objects.bulk_create(
            (record(n) for n in range(records_wanted)), batch_size=5000
        )
    return {
        "expected_living": expected,
        "records": records_wanted,
        "buildings": buildings_wanted,
        "round": the_round.pk,
    }


def measure(expected: int) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    django.setup()
    import sqlite3

    import polars as pl
    from django.conf import settings
    from django_scopes import scopes_disabled

    from linli.accounts.models import User
    from linli.campaigns import actions, reconcile
    from linli.campaigns.models import CampaignRound, SampleRecord

    with scopes_disabled():
        started = time.perf_counter()
        world = build_world(expected)
        result: dict[str, object] = dict(world)
        result["build_s"] = time.perf_counter() - started
        the_round = CampaignRound.objects.select_related("campaign").get(pk=world["round"])
        actor = User.objects.get(username="bench")

        started = time.perf_counter()
        changed = actions.records_rematch(actor=actor, round=the_round)
        result["rematch_s"] = time.perf_counter() - started
        assert changed == 0, changed

        started = time.perf_counter()
        rows = reconcile.completion(the_round, "building")
        figures = reconcile.round_figures(
            the_round, SampleRecord.objects.filter(round=the_round), rows
        )
        result["completion_s"] = time.perf_counter() - started
        started = time.perf_counter()
        missing = list(reconcile.missing_residents(the_round).values_list("pk", flat=True))
        result["missing_s"] = time.perf_counter() - started
        result["reconcile_s"] = (
            float(result["rematch_s"]) + float(result["completion_s"]) + float(result["missing_s"])  # type: ignore[arg-type]
        )
        result["expected"] = figures.expected
        result["reached"] = figures.reached
        result["missing"] = len(missing)
        result["exempted"] = figures.exempted
        result["unmatched"] = figures.unmatched
        assert figures.missing == len(missing) == sum(r.missing for r in rows)

    # The same in bare polars, reading the same SQLite file.
    connection = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
    started = time.perf_counter()
    residents = pl.read_database(
        "SELECT r.id, r.id_number_index, r.name, r.phone_index, r.living_status, "
        "u.building_id FROM registry_resident r JOIN registry_household h ON h.id = r.household_id "
        "JOIN registry_unit u ON u.id = h.unit_id",
        connection,
    )
    records = pl.read_database(
        "SELECT id, id_number_index, id_number_valid, name, phone_index "
        "FROM campaigns_samplerecord WHERE round_id = ?",
        connection,
        execute_options={"parameters": [int(world["round"])]},
    )
    exempt = pl.read_database(
        "SELECT resident_id FROM campaigns_exemption WHERE revoked_at IS NULL", connection
    )
    result["polars_load_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with_id = records.filter(pl.col("id_number_valid") == 1).filter(pl.col("id_number_index") != "")
    by_id = with_id.join(
        residents.select(pl.col("id").alias("resident"), "id_number_index"), on="id_number_index"
    )
    rest = records.join(by_id.select("id"), on="id", how="anti").filter(pl.col("phone_index") != "")
    by_phone = rest.join(
        residents.select(pl.col("id").alias("resident"), "name", "phone_index"),
        on=["name", "phone_index"],
    )
    reached = pl.concat([by_id.select("resident"), by_phone.select("resident")]).unique()
    expected_df = residents.filter(pl.col("living_status") == "living_here").join(
        exempt, left_on="id", right_on="resident_id", how="anti"
    )
    missing_df = expected_df.join(reached, left_on="id", right_on="resident", how="anti")
    by_building = expected_df.group_by("building_id").len()
    result["polars_join_s"] = time.perf_counter() - started
    result["polars_missing"] = missing_df.height
    result["polars_buildings"] = by_building.height
    assert missing_df.height == result["missing"], (missing_df.height, result["missing"])
    return result


def run_size(expected: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="linli-campaign-bench-") as data_dir:
        env = {
            **os.environ,
            "LINLI_DATA_DIR": data_dir,
            "DATABASE_URL": "",
            "DJANGO_SETTINGS_MODULE": "linli.settings",
        }
        subprocess.run(  # noqa: S603
            [str(REPO / ".venv" / "bin" / "linli"), "migrate", "-v", "0", "--skip-checks"],
            env=env,
            check=True,
            cwd=REPO,
        )
        out = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--measure", str(expected)],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if out.returncode:
            sys.stderr.write(out.stderr)
            out.check_returncode()
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure(options.measure)))
        return
    results = []
    for size in (int(s) for s in options.sizes.split(",")):
        print(f"… {size:,} expected", file=sys.stderr)
        results.append(run_size(size))
    print(
        "| residents | records | missing | rematch s | completion s | missing list s "
        "| **reconcile s** | polars load s | polars join s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['expected_living']:,} | {r['records']:,} | {r['missing']:,} | "
            f"{r['rematch_s']:.2f} | {r['completion_s']:.2f} | {r['missing_s']:.2f} | "
            f"**{r['reconcile_s']:.2f}** | {r['polars_load_s']:.2f} | {r['polars_join_s']:.3f} |"
        )
    print()
    for r in results:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
