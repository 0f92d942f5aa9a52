"""How long `linli seed` takes per tier, how many rows it writes a second, how big the DB gets.

    .venv/bin/python bench/seed_bench.py [--tiers community,estate] [--runs 3]

Each run migrates a fresh temporary LINLI_DATA_DIR (SQLite), then times `linli seed --tier
TIER` as a subprocess, wall clock, Django start-up included (what a user waits for). Rows
are counted in the database file before and after seeding. Prints the machine and a
markdown table (the median run of each tier).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINLI = str(REPO / ".venv" / "bin" / "linli")


@dataclass
class Run:
    tier: str
    migrate_seconds: float
    seed_seconds: float
    rows: int
    households: int
    residents: int
    db_bytes: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seed_seconds


def count_rows(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in tables
        }


def run_once(tier: str) -> Run:
    data_dir = Path(tempfile.mkdtemp(prefix=f"linli-seed-bench-{tier}-"))
    try:
        env = {**os.environ, "LINLI_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore"}
        env.pop("DATABASE_URL", None)
        start = time.perf_counter()
        subprocess.run([LINLI, "migrate", "-v0"], env=env, check=True)  # noqa: S603
        migrate_seconds = time.perf_counter() - start
        db = data_dir / "linli.sqlite3"
        before = count_rows(db)
        start = time.perf_counter()
        subprocess.run(  # noqa: S603
            [LINLI, "seed", "--tier", tier], env=env, check=True, stdout=subprocess.DEVNULL
        )
        seed_seconds = time.perf_counter() - start
        after = count_rows(db)
        wal = data_dir / "linli.sqlite3-wal"
        return Run(
            tier=tier,
            migrate_seconds=migrate_seconds,
            seed_seconds=seed_seconds,
            rows=sum(after.values()) - sum(before.values()),
            households=after["registry_household"],
            residents=after["registry_resident"],
            db_bytes=db.stat().st_size + (wal.stat().st_size if wal.exists() else 0),
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {os.cpu_count()} cores ({cpu}), memory {memory}, load average {load}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.release()}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiers", default="community,estate")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    results: list[Run] = []
    for tier in args.tiers.split(","):
        runs = []
        for n in range(args.runs):
            run = run_once(tier)
            print(f"{tier} run {n + 1}: {run.seed_seconds:.1f} s", file=sys.stderr)
            runs.append(run)
        median = statistics.median(r.seed_seconds for r in runs)
        results.append(min(runs, key=lambda r: abs(r.seed_seconds - median)))
    print("\n".join(machine()))
    print(
        f"- command: `{Path(sys.executable).name} bench/seed_bench.py --tiers {args.tiers}"
        f" --runs {args.runs}` (median run shown)"
    )
    print()
    print(
        "| tier | households | residents | rows written | `linli seed` s | rows/s "
        "| DB size MB | `linli migrate` s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.tier} | {r.households:,} | {r.residents:,} | {r.rows:,} "
            f"| {r.seed_seconds:.1f} | {r.rows_per_second:,.0f} "
            f"| {r.db_bytes / 1024 / 1024:.1f} | {r.migrate_seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
