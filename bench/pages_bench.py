"""Server time and query counts of the main list pages, per seeding tier.

    .venv/bin/python bench/pages_bench.py [--tiers community,estate] [--runs 40]

Each tier is seeded into a fresh temporary LINLI_DATA_DIR (SQLite), then the pages are
requested in-process through Django's test client (server time, no network) as the grid
worker of grid 1, community staff, a volunteer and a checkpoint keeper. Prints a markdown
table: p50/p95 in ms and the number of SQL queries per request, which must not grow with
the number of rows.
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINLI = str(REPO / ".venv" / "bin" / "linli")

PAGES = [
    ("list", "/residents/"),
    ("list page 20", "/residents/?page=20"),
    ("search pinyin initials", "/residents/?q=zxm"),
    ("search full pinyin", "/residents/?q=zhangjianguo"),
    ("search phone tail", "/residents/?q=8000"),
    ("search address", "/residents/?q=3%E5%8F%B7%E6%A5%BC"),
    ("filter care tag", "/residents/?tag=lives_alone"),
    ("register", "/register/"),
]

# The field work (issue 3): volunteers, the task board, hours, checkpoints, held goods.
FIELD_PAGES = [
    ("volunteers", "/volunteers/"),
    ("volunteers pending", "/volunteers/?status=pending"),
    ("task board", "/tasks/"),
    ("task board, all", "/tasks/?status=all"),
    ("hours", "/tasks/figures/"),
    ("checkpoints", "/checkpoints/"),
    ("held goods", "/goods/held/"),
    ("message log", "/messages/"),
]

PAGES_OF = {
    "grid_worker_1": [*PAGES, ("task board", "/tasks/")],
    "community_staff": PAGES + FIELD_PAGES,
    "volunteer_1": [("my tasks", "/my/")],
    "checkpoint_keeper_1": [("checkpoints", "/checkpoints/"), ("held goods", "/goods/held/")],
}


def measure(runs: int) -> list[dict[str, object]]:
    """Run inside a process whose LINLI_DATA_DIR holds a seeded database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    os.environ["LINLI_SSL_REDIRECT"] = "false"
    os.environ["LINLI_ALLOWED_HOSTS"] = "testserver"
    # The bench measures pages, not the limit that stops a person scraping the register.
    os.environ["LINLI_SEARCH_RATE"] = "1000000/m"
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from linli.accounts.models import User

    results: list[dict[str, object]] = []
    for username, pages in PAGES_OF.items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        for name, url in pages:
            client.get(url)  # warm caches
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            times.sort()
            results.append(
                {
                    "user": username,
                    "page": name,
                    "p50": statistics.median(times),
                    "p95": times[int(len(times) * 0.95) - 1],
                    "queries": len(queries),
                }
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiers", default="community,estate")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.runs)))
        return
    table: dict[str, list[dict[str, object]]] = {}
    for tier in args.tiers.split(","):
        data_dir = tempfile.mkdtemp(prefix=f"linli-bench-{tier}-")
        env = {**os.environ, "LINLI_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "linli.settings"}
        env.pop("DATABASE_URL", None)
        subprocess.run([LINLI, "migrate", "-v0"], env=env, check=True)  # noqa: S603
        start = time.perf_counter()
        subprocess.run(  # noqa: S603
            [LINLI, "seed", "--tier", tier], env=env, check=True, stdout=subprocess.DEVNULL
        )
        print(f"seeded {tier} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        out = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--measure", "--runs", str(args.runs)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        table[tier] = json.loads(out.stdout)
    tiers = list(table)
    print(
        "| user | page | "
        + " | ".join(f"{t} p50 ms | {t} p95 ms | {t} queries" for t in tiers)
        + " |"
    )
    print("|---|---|" + "---:|---:|---:|" * len(tiers))
    for i, row in enumerate(table[tiers[0]]):
        cells = []
        for tier in tiers:
            r = table[tier][i]
            cells.append(f"{r['p50']:.1f} | {r['p95']:.1f} | {r['queries']}")
        print(f"| {row['user']} | {row['page']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
