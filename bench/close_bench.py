"""Closing a street-tier round: fair allocation, then every pick list and manifest.

    .venv/bin/python bench/close_bench.py [--sizes 10000,100000,300000] [--pdf]

The shape. One placed order per household per round (a database constraint), so the
issue's "100,000 orders over 35,000 households" is read as 35,000 orders (one per
household) carrying 100,000 order items (2.86 packages each, 1–2 units of each): every
item is a line the allocation shares out and the paperwork prints. A size N means N order
items over 0.35 × N households (10k: 3,500 households; 100k: 35,000, the street tier;
300k: 105,000), in buildings of 2 units × 18 rooms, in 40 compounds over 10 communities,
each compound with one checkpoint serving its buildings except one building in a hundred
(those households go on the "未分配卡口" manifest). 4 suppliers offer 12 packages with
stock at 85% of what was asked, so the allocation has to share; 5% of households have a
resident on the special-needs register.

Each size runs in a fresh temporary LINLI_DATA_DIR (SQLite, WAL), built directly with
bulk_create (not timed), then timed:
  allocate   actions.allocate_round on the closed fair round (reads, shares, writes back)
  documents  every pick list and manifest of the round from supply/documents.py: the rows
             loaded once, grouped into all pick lists and all manifests
  per doc    the same, document by document as the background task makes them
             (documents.build for each supplier's pick list and each checkpoint's manifest)
  xlsx       every pick list and manifest rendered to Excel
  pdf        (--pdf) every pick list and one checkpoint's manifest rendered to PDF
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

COMMUNITIES = 10
COMPOUNDS = 40
ROOMS_PER_UNIT = 18
UNITS_PER_BUILDING = 2
PACKAGES = [
    ("惠民批发市场", "粮油套餐", "grain_oil", 10000, 9900),
    ("惠民批发市场", "蔬菜包", "vegetables", 5000, 4800),
    ("惠民批发市场", "肉类套餐", "meat", 2000, 8800),
    ("惠民批发市场", "豆制品包", "tofu", 1500, 1800),
    ("惠民批发市场", "调料包", "condiments", 1000, 2200),
    ("惠民批发市场", "水果包", "fruit", 4000, 5800),
    ("惠民批发市场", "火锅套餐", "hotpot", 3000, 12800),
    ("联华超市", "米面油组合", "grain_oil", 12000, 11800),
    ("联华超市", "鸡蛋30枚", "eggs", 1800, 3500),
    ("叮咚买菜", "时令蔬菜箱", "vegetables", 6000, 6600),
    ("叮咚买菜", "冻肉组合", "meat", 2500, 9900),
    ("社区药房", "常用药品包", "medicine", 500, 3000),
]


def build_world(items_wanted: int, seed: int = 7) -> dict[str, int]:
    """A street with the round's orders, straight into the database (not timed)."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from linli.accounts.models import User
    from linli.checkpoints.models import Checkpoint
    from linli.registry.models import (
        Building,
        CareTagAssignment,
        Community,
        Compound,
        Household,
        Resident,
        Street,
        Unit,
    )
    from linli.supply.choices import Channel, Intake, Payment, RoundScope, RoundStatus
    from linli.supply.models import Offer, Order, OrderItem, Package, Supplier, SupplyRound

    rng = random.Random(seed)
    households_wanted = round(items_wanted * 0.35)
    per_building = ROOMS_PER_UNIT * UNITS_PER_BUILDING
    buildings_wanted = -(-households_wanted // per_building)
    with transaction.atomic():
        admin = User.objects.create_superuser("bench", password="bench-password-1")  # noqa: S106
        street = Street.objects.create(name="和平街道", code="heping")
        communities = Community.objects.bulk_create(
            Community(street=street, name=f"第{i + 1}社区", code=f"c{i + 1}")
            for i in range(COMMUNITIES)
        )
        compounds = Compound.objects.bulk_create(
            Compound(community=communities[i % COMMUNITIES], name=f"{i + 1:02d}号小区")
            for i in range(COMPOUNDS)
        )
        buildings = Building.objects.bulk_create(
            Building(
                compound=compounds[i % COMPOUNDS],
                name=f"{i // COMPOUNDS + 1}号楼",
                sort_key=i // COMPOUNDS + 1,
            )
            for i in range(buildings_wanted)
        )
        units = Unit.objects.bulk_create(
            Unit(building=b, name=f"{u + 1}单元", sort_key=u + 1)
            for b in buildings
            for u in range(UNITS_PER_BUILDING)
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
                        address=f"{building.compound.name}{building.name}{unit.name}{room}",
                    )
                )
        Household.objects.bulk_create(households, batch_size=5000)
        register = rng.sample(households, len(households) // 20)
        residents = Resident.objects.bulk_create(
            (Resident(household=h, name="居民") for h in register), batch_size=5000
        )
        CareTagAssignment.objects.bulk_create(
            (CareTagAssignment(resident=r, tag="lives_alone") for r in residents),
            batch_size=5000,
        )
        checkpoints = Checkpoint.objects.bulk_create(
            Checkpoint(community_id=c.community_id, compound=c, name="东门") for c in compounds
        )
        through = Checkpoint.buildings.through
        through.objects.bulk_create(
            (
                through(checkpoint=checkpoints[n % COMPOUNDS], building=b)
                for n, b in enumerate(buildings)
                if n % 100 != 50  # one building in a hundred: no checkpoint serves it
            ),
            batch_size=5000,
        )
        suppliers = {
            name: Supplier.objects.create(street=street, name=name, kind="supplier")
            for name in dict.fromkeys(p[0] for p in PACKAGES)
        }
        packages = Package.objects.bulk_create(
            Package(supplier=suppliers[s], name=n, category=c, net_weight_g=g, price_fen=f)
            for s, n, c, g, f in PACKAGES
        )
        now = timezone.now()
        supply_round = SupplyRound.objects.create(
            street=street,
            scope=RoundScope.STREET,
            title="全街道第一轮保供",
            opens_at=now - dt.timedelta(hours=6),
            closes_at=now - dt.timedelta(hours=1),
            delivery_date=(now + dt.timedelta(days=1)).date(),
            intake=Intake.FAIR,
            status=RoundStatus.CLOSED,
            allocation_seed=12345,
            created_by=admin,
        )
        offers = Offer.objects.bulk_create(
            Offer(
                round=supply_round,
                package=p,
                stock=1,
                remaining=1,
                per_household_limit=2,
                price_fen=p.price_fen,
                net_weight_g=p.net_weight_g,
            )
            for p in packages
        )
        orders = Order.objects.bulk_create(
            (
                Order(
                    round=supply_round,
                    household=h,
                    channel=Channel.RESIDENT,
                    payment=Payment.ON_DELIVERY,
                    placed_by=admin,
                    pickup_code=f"{rng.randrange(1_000_000):06d}",
                )
                for h in households
            ),
            batch_size=5000,
        )
        # items_wanted items over the orders: each order 2 or 3 (or more) distinct offers.
        base, extra = divmod(items_wanted, len(orders))
        items = []
        asked = dict.fromkeys((o.pk for o in offers), 0)
        for n, order in enumerate(orders):
            k = min(base + (1 if n < extra else 0), len(offers))
            for offer in rng.sample(offers, k):
                quantity = 1 if rng.random() < 0.7 else 2
                asked[offer.pk] += quantity
                items.append(
                    OrderItem(
                        order=order,
                        offer=offer,
                        quantity=quantity,
                        price_fen=offer.price_fen,
                        net_weight_g=offer.net_weight_g,
                    )
                )
        OrderItem.objects.bulk_create(items, batch_size=5000)
        for offer in offers:
            stock = max(1, int(asked[offer.pk] * 0.85))
            Offer.objects.filter(pk=offer.pk).update(stock=stock, remaining=stock)
    return {
        "round": supply_round.pk,
        "households": len(households),
        "orders": len(orders),
        "items": len(items),
        "buildings": len(buildings),
        "checkpoints": len(checkpoints),
    }


def measure(items_wanted: int, pdf: bool) -> dict[str, object]:
    """Run inside a process whose LINLI_DATA_DIR is a fresh, migrated database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    django.setup()
    from django_scopes import scopes_disabled

    from linli.accounts.models import User
    from linli.supply import actions, documents
    from linli.supply.models import OrderItem, SupplyRound

    with scopes_disabled():
        started = time.perf_counter()
        world = build_world(items_wanted)
        result: dict[str, object] = dict(world)
        result["build_s"] = time.perf_counter() - started
        supply_round = SupplyRound.objects.get(pk=world["round"])
        actor = User.objects.get(username="bench")

        started = time.perf_counter()
        actions.allocate_round(actor=actor, round=supply_round)
        result["allocate_s"] = time.perf_counter() - started
        supply_round.refresh_from_db()
        result["allocated_units"] = sum(
            units or 0
            for units in OrderItem.objects.filter(order__round=supply_round).values_list(
                "allocated", flat=True
            )
        )

        started = time.perf_counter()
        served = documents.checkpoint_of_buildings(supply_round)
        names = documents.checkpoint_names(supply_round)
        rows = documents.load_rows(supply_round, served=served)
        loaded = time.perf_counter()
        picks = documents.pick_lists(rows, names)
        manifests = documents.manifests(rows, names)
        result["documents_s"] = time.perf_counter() - started
        result["load_s"] = loaded - started
        result["rows"] = len(rows)
        result["pick_lists"] = len(picks)
        result["manifests"] = len(manifests)
        result["unassigned_households"] = manifests[documents.UNASSIGNED].households
        assert sum(p.totals.count for p in picks.values()) == result["allocated_units"]
        assert sum(m.households for m in manifests.values()) == sum(
            1 for _ in {r.order_id for r in rows}
        )

        started = time.perf_counter()
        built = [
            documents.build(supply_round, "pick_list", str(supplier_id)) for supplier_id in picks
        ] + [documents.build(supply_round, "manifest", key) for key in manifests]
        result["per_doc_s"] = time.perf_counter() - started

        started = time.perf_counter()
        xlsx_bytes = sum(len(documents.render_xlsx(d)) for d in built)
        result["xlsx_s"] = time.perf_counter() - started
        result["xlsx_mb"] = xlsx_bytes / 1e6
        if pdf:
            pick_docs = [d for d in built if d.kind == "pick_list"]
            manifest = next(d for d in built if d.kind == "manifest")
            started = time.perf_counter()
            for d in pick_docs:
                documents.render_pdf(d, "http://localhost")
            result["pdf_picks_s"] = time.perf_counter() - started
            started = time.perf_counter()
            data = documents.render_pdf(manifest, "http://localhost")
            result["pdf_manifest_s"] = time.perf_counter() - started
            result["pdf_manifest_households"] = manifest.orders
            assert manifest.manifest is not None
            result["pdf_manifest_pages"] = len(documents.manifest_pages(manifest.manifest))
            result["pdf_manifest_kb"] = len(data) / 1000
    return result


def run_size(items: int, pdf: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="linli-close-bench-") as data_dir:
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
        args = [sys.executable, __file__, "--measure", str(items)] + (["--pdf"] if pdf else [])
        out = subprocess.run(  # noqa: S603
            args, env=env, cwd=REPO, capture_output=True, text=True
        )
        if out.returncode:
            sys.stderr.write(out.stderr)
            out.check_returncode()
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,300000")
    parser.add_argument("--pdf", action="store_true")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure(options.measure, options.pdf)))
        return
    results = []
    for size in (int(s) for s in options.sizes.split(",")):
        print(f"… {size:,} items", file=sys.stderr)
        results.append(run_size(size, options.pdf))
    print(
        "| order items | households (= orders) | allocate s | all pick lists + manifests s "
        "| of which loading s | allocate + documents s | per-document builds s | "
        "all as Excel s | µs per item (allocate + documents) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        total = float(r["allocate_s"]) + float(r["documents_s"])  # type: ignore[arg-type]
        print(
            f"| {r['items']:,} | {r['households']:,} | {r['allocate_s']:.2f} | "
            f"{r['documents_s']:.2f} | {r['load_s']:.2f} | {total:.2f} | "
            f"{r['per_doc_s']:.2f} | {r['xlsx_s']:.2f} | "
            f"{total / int(r['items']) * 1e6:.0f} |"  # type: ignore[call-overload]
        )
    print()
    for r in results:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
