"""Meal eligibility at a tier: the policy evaluated over every resident of the street in one
SQL query, the reasons for everyone covered, a canteen's daily list and the eligible page.

    .venv/bin/python bench/meals_bench.py [--tier street] [--runs 10] [--data-dir DIR]

Without --data-dir the tier is seeded into a fresh temporary LINLI_DATA_DIR (SQLite; `linli
seed` runs every app's seeder, meals included). Times are wall clock in-process, median and
worst of the runs, as the street admin (the whole street in scope).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINLI = str(REPO / ".venv" / "bin" / "linli")


def measure(runs: int) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    os.environ["LINLI_SSL_REDIRECT"] = "false"
    os.environ["LINLI_ALLOWED_HOSTS"] = "testserver"
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from linli.accounts.models import User
    from linli.meals.access import visible_canteens, visible_policies
    from linli.meals.daily import daily_list
    from linli.meals.eligibility import eligible_residents, explain
    from linli.registry.models import Resident
    from linli.registry.scope import activate_for

    admin = User.objects.get(username="street_admin")
    today = timezone.localdate()
    results: dict[str, object] = {}

    def timed(name: str, work: Callable[[], object]) -> object:
        value = work()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            work()
            times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as queries:
            work()
        results[name] = {
            "p50_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            "queries": len(queries),
        }
        return value

    with activate_for(admin):
        policies = list(visible_policies(admin))
        residents = Resident.objects.all()
        results["residents"] = residents.count()
        results["covered"] = timed(
            "count covered (one query)",
            lambda: eligible_residents(residents, policies, today).count(),
        )
        timed(
            "covered with reasons (all)",
            lambda: len(explain(eligible_residents(residents, policies, today), policies, today)),
        )
        canteen = visible_canteens(admin).order_by("pk").first()
        if canteen is not None:
            results["daily lunch"] = timed(
                "daily list (one canteen)", lambda: daily_list(canteen, today).lunch
            )
    client = Client()
    client.force_login(admin)
    timed("eligible page (street admin)", lambda: client.get("/meals/eligible/").status_code)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tier", default="street")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--data-dir")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.runs)))
        return
    data_dir = args.data_dir or tempfile.mkdtemp(prefix=f"linli-meals-{args.tier}-")
    env = {**os.environ, "LINLI_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "linli.settings"}
    env.pop("DATABASE_URL", None)
    if not args.data_dir:
        subprocess.run([LINLI, "migrate", "-v0"], env=env, check=True)  # noqa: S603
        start = time.perf_counter()
        subprocess.run(  # noqa: S603
            [LINLI, "seed", "--tier", args.tier], env=env, check=True, stdout=subprocess.DEVNULL
        )
        print(f"seeded {args.tier} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    out = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--measure", "--runs", str(args.runs)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    print(json.dumps(json.loads(out.stdout), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
