"""Order intake at 6 a.m.: first-come orders over HTTP under a burst, beside the raw database
limit for the same transaction, on whichever database DATABASE_URL names (SQLite otherwise).
docs/benchmarks.md has the figures and what they mean.

    .venv/bin/python bench/intake_bench.py [--requests 4000] [--clients 64] [--runs 2]
    scripts/with-postgres.sh .venv/bin/python bench/intake_bench.py

One invocation:

1. migrates a fresh temporary LINLI_DATA_DIR (its SQLite file, or the PostgreSQL database
   DATABASE_URL names) and builds, with the ORM and the real round actions: one community of
   `--households` households, a community staff account with an API token, a supplier with
   seven packages, and for every scenario × run × mode its own first-come round open now
   (so no two measurements share stock or orders);
2. starts gunicorn (gthread, `--workers` × `--threads`) on 127.0.0.1 with LINLI_DEBUG off
   and the rate limits raised, and warms every worker up with orders in a round of its own;
3. for each run and scenario, the `--modes` in turn, on the same orders:
   `http` — `--clients` keep-alive connections (aiohttp) POST /api/v1/rounds/{id}/orders,
   one household and one Idempotency-Key per request, until `--requests` have been sent;
   `raw` — bench/intake_raw.py places them as plain SQL with as many connections;
   `action` — `order_place` called in this process by as many threads (no HTTP);
   `ceiling` — the same requests and clients against bench/ceiling_app.py, an empty WSGI
   app on the same gunicorn settings: what the HTTP stack alone carries on this machine;
   after each, the database is checked: oversell (units sold of an offer beyond its stock;
   `remaining` ≠ stock − sold) and lost orders (an acknowledged order id missing, or with
   other items than sent), with the CPU time the client, the server and PostgreSQL spent;
4. stops the server (also on failure), prints markdown tables (and with --explain N the SQL
   of one request and a profile of N), with --json the details, and deletes the data folder
   (unless --keep).

Scenarios: `hot` — one package (stock `--hot-stock`, one per household) everyone orders;
`many` — seven packages (stock `--many-stock` each, limit 2), each request picks 1–3 of
them with 1–2 units each. The request lists are drawn once from `--seed`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import faulthandler
import io
import json
import os
import pstats
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
import intake_raw
from intake_raw import OfferFacts, OrderRequest, Outcome

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"

PACKAGES = [  # name, category, grams, fen
    ("蔬菜包", "vegetables", 5000, 4800),
    ("米面油套餐", "grain_oil", 10000, 9900),
    ("肉类套餐", "meat", 3000, 12800),
    ("豆制品包", "tofu", 2000, 2600),
    ("调料包", "condiments", 1500, 3500),
    ("水果包", "fruit", 4000, 5800),
    ("火锅套餐", "hotpot", 2500, 8800),
]
RATE_SETTINGS = [
    "LINLI_SEARCH_RATE",
    "LINLI_EXPORT_RATE",
    "LINLI_SIGNUP_RATE",
    "LINLI_SMS_PHONE_RATE",
    "LINLI_SMS_IP_RATE",
    "LINLI_ORDER_RATE",
]
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- what the bench works with ----------------------------------------------------------


@dataclass
class RoundPlan:
    """A round made for one measurement: its id and its offers (package name → offer)."""

    round_id: int
    offer_ids: list[int]
    facts: dict[int, OfferFacts]
    stock: dict[int, int]


@dataclass
class World:
    staff_id: int
    token: str
    household_ids: list[int]
    rounds: dict[str, RoundPlan]  # "hot/1/http" → plan; "warmup" and "explain" too


@dataclass
class Measurement:
    scenario: str
    run: int
    mode: str  # http | raw
    requests: int
    seconds: float
    ok: int
    sold_out: int
    errors: int
    error_samples: list[str]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p50_ok_ms: float
    p99_ok_ms: float
    oversold_units: int
    remaining_mismatches: int
    lost: int
    unacknowledged_in_db: int
    units_sold: int
    stock: int
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def orders_per_s(self) -> float:
        return self.ok / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds


# --- CPU accounting from /proc ------------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and of its children that have ended (a
    database connection closed during the measurement is counted in its parent), 0 if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / CLK_TCK


def _processes() -> Iterator[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        head, tail = stat.rsplit(")", 1)
        yield int(entry.name), int(tail.split()[1]), head.split("(", 1)[1]


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


class CpuMeter:
    """CPU seconds spent by the load generator (this process), the web server's processes,
    the PostgreSQL server's processes, and the whole machine, between start() and stop()."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.before: dict[str, float] = {}
        self.pids: dict[str, list[int]] = {}

    def _sample(self) -> dict[str, float]:
        procs = list(_processes())
        server = [p for p, parent, _ in procs if self.server_pid in (p, parent)]
        postgres = [p for p, _, name in procs if name == "postgres"]
        self.pids = {"server": server, "postgres": postgres}
        busy, total = _machine_busy()
        times = os.times()
        return {
            "client": times.user + times.system,
            "server": sum(_proc_cpu(p) for p in server),
            "postgres": sum(_proc_cpu(p) for p in postgres),
            "machine_busy": busy,
            "machine_total": total,
        }

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        spent = {k: after[k] - self.before[k] for k in after}
        # Cores' worth of time that passed, to see how much of the machine others used.
        spent["machine_capacity"] = spent.pop("machine_total")
        return spent


# --- setting up -------------------------------------------------------------------------


def _environment(data_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "linli.settings"
    os.environ["LINLI_DATA_DIR"] = data_dir
    os.environ["LINLI_DEBUG"] = "false"
    os.environ["LINLI_SSL_REDIRECT"] = "false"
    os.environ["LINLI_SECURE_COOKIES"] = "false"
    os.environ["LINLI_ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    for name in RATE_SETTINGS:
        os.environ[name] = "100000000/s"


def _build_world(
    households: int, plans: Sequence[tuple[str, str]], stocks: dict[str, int]
) -> World:
    """Households, a staff account with a token, a supplier, packages and one open round
    per (key, scenario) in `plans`, made with the ORM and the round actions."""
    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from linli.accounts.choices import Role
    from linli.accounts.models import ApiToken, User
    from linli.registry.models import (
        Building,
        Community,
        Compound,
        Household,
        Street,
        Unit,
        UserArea,
    )
    from linli.supply import actions
    from linli.supply.choices import Intake, RoundScope, SupplierKind
    from linli.supply.models import Package, Supplier

    with scopes_disabled(), transaction.atomic():
        street = Street.objects.create(name="和平街道", code="heping")
        community = Community.objects.create(street=street, name="阳光社区", code="yangguang")
        compound = Compound.objects.create(community=community, name="阳光小区")
        rooms_per_unit = 100
        units: list[Unit] = []
        building_count = -(-households // (4 * rooms_per_unit))
        for b in range(building_count):
            building = Building.objects.create(compound=compound, name=f"{b + 1}号楼")
            for u in range(4):
                units.append(Unit.objects.create(building=building, name=f"{u + 1}单元"))
        homes: list[Household] = []
        for n in range(households):
            unit = units[n // rooms_per_unit]
            floor, door = divmod(n % rooms_per_unit, 4)
            home = Household(room=f"{floor + 1}{door + 1:02d}")
            home.place_in(unit)
            homes.append(home)
        Household.objects.bulk_create(homes, batch_size=2000)
        household_ids = list(
            Household.objects.filter(community=community)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        staff = User.objects.create_user(
            "intake_staff", role=Role.COMMUNITY_STAFF, display_name="社区工作人员"
        )
        staff.set_unusable_password()
        staff.save()
        UserArea.objects.create(user=staff, community=community)
        token = ApiToken.issue(staff)
        supplier = Supplier.objects.create(
            street=street, name="惠民生鲜配送", kind=SupplierKind.SUPPLIER
        )
        packages = [
            Package.objects.create(
                supplier=supplier, name=name, category=cat, net_weight_g=g, price_fen=fen
            )
            for name, cat, g, fen in PACKAGES
        ]
        now = timezone.now()
        rounds: dict[str, RoundPlan] = {}
        for key, scenario in plans:
            round = actions.round_create(
                actor=staff,
                street_id=street.pk,
                data=actions.RoundInput(
                    title=f"早六点 {key}",
                    scope=RoundScope.COMMUNITY,
                    community_id=community.pk,
                    opens_at=now - dt.timedelta(minutes=5),
                    closes_at=now + dt.timedelta(hours=6),
                    delivery_date=(now + dt.timedelta(days=1)).date(),
                    intake=Intake.FIRST_COME,
                ),
            )
            chosen = packages[:1] if scenario == "hot" else packages
            offers = [
                actions.offer_add(
                    actor=staff,
                    round=round,
                    package=package,
                    stock=stocks[scenario],
                    per_household_limit=1 if scenario == "hot" else 2,
                )
                for package in chosen
            ]
            actions.round_open(actor=staff, round=round)
            rounds[key] = RoundPlan(
                round_id=round.pk,
                offer_ids=sorted(o.pk for o in offers),
                facts={o.pk: OfferFacts(o.price_fen, o.net_weight_g) for o in offers},
                stock={o.pk: o.stock for o in offers},
            )
    return World(staff_id=staff.pk, token=token, household_ids=household_ids, rounds=rounds)


def _orders_for(
    plan: RoundPlan, scenario: str, households: Sequence[int], tag: str
) -> list[OrderRequest]:
    """The request list of one measurement: `households` in order, each with its items."""
    rng = random.Random(f"{tag}-items")
    orders: list[OrderRequest] = []
    for n, household_id in enumerate(households):
        if scenario == "hot":
            items: tuple[tuple[int, int], ...] = ((plan.offer_ids[0], 1),)
        else:
            picked = sorted(rng.sample(range(len(plan.offer_ids)), rng.randint(1, 3)))
            items = tuple((plan.offer_ids[i], rng.randint(1, 2)) for i in picked)
        orders.append(OrderRequest(household_id, items, f"{tag}-{n}-{rng.getrandbits(48):012x}"))
    return orders


def _with_offers(
    source: RoundPlan, plan: RoundPlan, template: Sequence[OrderRequest], tag: str
) -> list[OrderRequest]:
    """The same orders (households, packages, quantities) against another round's offers
    (both rounds' offers were made in the same package order)."""
    position = {offer_id: n for n, offer_id in enumerate(source.offer_ids)}
    return [
        OrderRequest(
            o.household_id,
            tuple((plan.offer_ids[position[offer_id]], q) for offer_id, q in o.items),
            f"{tag}-{n}-{o.key.rsplit('-', 1)[1]}",
        )
        for n, o in enumerate(template)
    ]


# --- the server -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def _server(
    workers: int, threads: int, log: Path, app: str = "linli.wsgi:application"
) -> Iterator[tuple[str, int]]:
    """gunicorn serving `app` (linli.wsgi, or the ceiling's empty app) on a free loopback
    port; stopped however the block ends."""
    port = _free_port()
    command = [
        str(BIN / "gunicorn"),
        app,
        f"--pythonpath={REPO / 'bench'}",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=gthread",
        f"--threads={threads}",
        "--keep-alive=30",
        "--backlog=2048",
        "--timeout=120",
        "--log-level=warning",
        f"--error-logfile={log}",
    ]
    # Django logs every 4xx ("Bad Request", i.e. sold out) to the workers' stderr: to the log.
    output = log.open("ab")
    server = subprocess.Popen(  # noqa: S603
        command, cwd=REPO, env=os.environ.copy(), stdout=output, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{base}/api/v1/", timeout=5) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s; see {log}")
            time.sleep(0.3)
        yield base, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        output.close()


# --- the load ---------------------------------------------------------------------------


def _body(order: OrderRequest) -> bytes:
    return json.dumps(
        {
            "household_id": order.household_id,
            "items": [{"offer_id": o, "quantity": q} for o, q in order.items],
            "payment": "on_delivery",
        }
    ).encode()


def _order_id(payload: bytes) -> int | None:
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in ("id", "order_id"):
            if isinstance(data.get(key), int):
                return int(data[key])
        if isinstance(data.get("order"), dict) and isinstance(data["order"].get("id"), int):
            return int(data["order"]["id"])
    return None


async def _load(
    base: str, token: str, round_id: int, orders: Sequence[OrderRequest], clients: int
) -> tuple[list[Outcome], float]:
    """`clients` connections, each sending the next unsent order as soon as its previous
    answer arrives; the connections are opened (one GET each) before the clock starts."""
    url = f"{base}/api/v1/rounds/{round_id}/orders"
    auth = {"Authorization": f"Bearer {token}"}
    outcomes: list[Outcome | None] = [None] * len(orders)
    bodies = [_body(o) for o in orders]
    next_index = 0
    connector = aiohttp.TCPConnector(limit=clients, limit_per_host=clients)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def connect() -> None:
            async with session.get(f"{base}/api/v1/", headers=auth) as r:
                await r.read()

        await asyncio.gather(*(connect() for _ in range(clients)))

        async def client() -> None:
            nonlocal next_index
            while next_index < len(orders):
                index = next_index
                next_index += 1
                headers = {
                    **auth,
                    "Content-Type": "application/json",
                    "Idempotency-Key": orders[index].key,
                }
                began = time.perf_counter()
                try:
                    async with session.post(url, data=bodies[index], headers=headers) as r:
                        payload = await r.read()
                        status = r.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    outcomes[index] = Outcome(index, "error", _ms(began), detail=repr(exc)[:200])
                    continue
                latency = _ms(began)
                if status in (200, 201):
                    order_id = _order_id(payload)
                    kind = "ok" if order_id is not None else "error"
                    outcomes[index] = Outcome(
                        index,
                        kind,
                        latency,
                        order_id,
                        detail=payload[:200].decode(errors="replace"),
                    )
                elif status == 400 and "已售罄".encode() in payload:
                    outcomes[index] = Outcome(index, "sold_out", latency)
                else:
                    outcomes[index] = Outcome(
                        index,
                        "error",
                        latency,
                        detail=f"{status} {payload[:200].decode(errors='replace')}",
                    )

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        seconds = time.perf_counter() - began
    return [o for o in outcomes if o is not None], seconds


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000


# --- checking the database --------------------------------------------------------------


@dataclass
class Check:
    oversold_units: int
    remaining_mismatches: int
    lost: int
    unacknowledged_in_db: int
    units_sold: int


def _check(plan: RoundPlan, orders: Sequence[OrderRequest], outcomes: Sequence[Outcome]) -> Check:
    """Oversell and lost acknowledged orders, read back from the database."""
    from django.db import connection
    from django.db.models import Sum
    from django_scopes import scopes_disabled

    from linli.supply.choices import OrderStatus
    from linli.supply.models import Offer, Order, OrderItem

    with scopes_disabled():
        sold = dict(
            OrderItem.objects.filter(
                order__round_id=plan.round_id, order__status=OrderStatus.PLACED
            )
            .values("offer_id")
            .annotate(units=Sum("quantity"))
            .values_list("offer_id", "units")
        )
        oversold = 0
        mismatches = 0
        for offer in Offer.objects.filter(round_id=plan.round_id):
            units = sold.get(offer.pk, 0)
            oversold += max(0, units - offer.stock)
            mismatches += offer.remaining != offer.stock - units
        placed: dict[int, tuple[int, set[tuple[int, int]]]] = {}
        for order_id, household_id in Order.objects.filter(
            round_id=plan.round_id, status=OrderStatus.PLACED
        ).values_list("pk", "household_id"):
            placed[order_id] = (household_id, set())
        for order_id, offer_id, quantity in OrderItem.objects.filter(
            order__round_id=plan.round_id
        ).values_list("order_id", "offer_id", "quantity"):
            if order_id in placed:
                placed[order_id][1].add((offer_id, quantity))
    connection.close()
    acknowledged: set[int] = set()
    lost = 0
    for outcome in outcomes:
        if outcome.kind != "ok" or outcome.order_id is None:
            continue
        acknowledged.add(outcome.order_id)
        sent = orders[outcome.index]
        found = placed.get(outcome.order_id)
        if found is None or found != (sent.household_id, set(sent.items)):
            lost += 1
    return Check(
        oversold_units=oversold,
        remaining_mismatches=mismatches,
        lost=lost,
        unacknowledged_in_db=len(set(placed) - acknowledged),
        units_sold=sum(sold.values()),
    )


def _measurement(
    scenario: str,
    run: int,
    mode: str,
    plan: RoundPlan,
    orders: Sequence[OrderRequest],
    outcomes: Sequence[Outcome],
    seconds: float,
    cpu: dict[str, float],
) -> Measurement:
    # The ceiling's app stores nothing: there is no database to check.
    check = Check(0, 0, 0, 0, 0) if mode == "ceiling" else _check(plan, orders, outcomes)
    kinds = Counter(o.kind for o in outcomes)
    latencies = sorted(o.latency_ms for o in outcomes)
    ok_latencies = sorted(o.latency_ms for o in outcomes if o.kind == "ok")
    samples = [o.detail for o in outcomes if o.kind == "error"]
    return Measurement(
        scenario=scenario,
        run=run,
        mode=mode,
        requests=len(orders),
        seconds=seconds,
        ok=kinds["ok"],
        sold_out=kinds["sold_out"],
        errors=kinds["error"] + len(orders) - len(outcomes),
        error_samples=sorted(set(samples))[:5],
        p50_ms=_pct(latencies, 50),
        p90_ms=_pct(latencies, 90),
        p99_ms=_pct(latencies, 99),
        p50_ok_ms=_pct(ok_latencies, 50),
        p99_ok_ms=_pct(ok_latencies, 99),
        oversold_units=check.oversold_units,
        remaining_mismatches=check.remaining_mismatches,
        lost=check.lost,
        unacknowledged_in_db=check.unacknowledged_in_db,
        units_sold=check.units_sold,
        stock=sum(plan.stock.values()),
        cpu=cpu,
    )


def _pct(values: Sequence[float], p: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


# --- where the time goes (in-process, no network) ---------------------------------------


def _explain(world: World, profile_orders: int) -> str:
    """SQL of one order request through Django's test client, and a profile of a series."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    plan = world.rounds["explain"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.token}")
    url = f"/api/v1/rounds/{plan.round_id}/orders"
    households = world.household_ids[-(2 * profile_orders + 2) :]

    def post(n: int) -> int:
        body = {
            "household_id": households[n],
            "items": [{"offer_id": plan.offer_ids[0], "quantity": 1}],
            "payment": "on_delivery",
        }
        response = client.post(
            url,
            json.dumps(body),
            content_type="application/json",
            headers={"Idempotency-Key": f"explain-{n}"},
        )
        return response.status_code

    post(0)  # warm
    with CaptureQueriesContext(connection) as queries:
        status = post(1)
    lines = [f"one order request: HTTP {status}, {len(queries)} SQL statements", ""]
    lines += [f"    {q['sql'][:700]}" for q in queries.captured_queries]
    began = time.perf_counter()
    for n in range(2, profile_orders + 2):
        post(n)
    plain = (time.perf_counter() - began) / profile_orders * 1000
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(profile_orders + 2, 2 * profile_orders + 2):
        post(n)
    profiler.disable()
    lines += [
        "",
        f"{profile_orders} requests one after another in-process (test client, no network): "
        f"{plain:.2f} ms each; the next {profile_orders} under cProfile:",
        "",
    ]
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"linli/|ninja/operation|handlers/base", 40)
    stats.sort_stats("tottime").print_stats(25)
    lines += out.getvalue().splitlines()
    connection.close()
    return "\n".join(lines)


# --- the report -------------------------------------------------------------------------


def _table(results: Sequence[Measurement]) -> str:
    rows = [
        "| scenario | run | mode | requests | orders ok | sold out | errors | s | orders/s "
        "| requests/s | p50 ms | p99 ms | oversold units | remaining ≠ stock − sold | lost "
        "| ÷ raw |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    raw_rate = {(m.scenario, m.run): m.requests_per_s for m in results if m.mode == "raw"}
    for m in results:
        ratio = ""
        if m.mode != "raw" and (m.scenario, m.run) in raw_rate:
            ratio = f"{m.requests_per_s / raw_rate[(m.scenario, m.run)]:.2f}"
        rows.append(
            f"| {m.scenario} | {m.run} | {m.mode} | {m.requests:,} | {m.ok:,} | {m.sold_out:,} "
            f"| {m.errors} | {m.seconds:.1f} | {m.orders_per_s:,.0f} | {m.requests_per_s:,.0f} "
            f"| {m.p50_ms:.1f} | {m.p99_ms:.1f} | {m.oversold_units} | {m.remaining_mismatches} "
            f"| {m.lost} | {ratio} |"
        )
    return "\n".join(rows)


def _cpu_table(results: Sequence[Measurement]) -> str:
    rows = [
        "| scenario | run | mode | client CPU ms/req | server CPU ms/req | postgres CPU ms/req "
        "| machine busy % | unaccounted (other work) % |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        c = m.cpu
        n = m.requests
        busy = c["machine_busy"] / c["machine_capacity"] * 100
        ours = c["client"] + c["server"] + c["postgres"]
        other = max(0.0, c["machine_busy"] - ours) / c["machine_capacity"] * 100
        rows.append(
            f"| {m.scenario} | {m.run} | {m.mode} | {c['client'] / n * 1000:.2f} "
            f"| {c['server'] / n * 1000:.2f} | {c['postgres'] / n * 1000:.2f} "
            f"| {busy:.0f} | {other:.0f} |"
        )
    return "\n".join(rows)


# --- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=4_000)
    parser.add_argument("--warmup", type=int, default=512)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--scenarios", default="hot,many")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--modes",
        default="http,raw,action",
        help="http, raw, action (order_place in-process, threads, no HTTP) and ceiling (the "
        "same load on an empty WSGI app: the HTTP stack's own limit), in this order",
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--hot-stock", type=int, default=2_500)
    parser.add_argument("--many-stock", type=int, default=1_500)
    parser.add_argument("--seed", default="6am")
    parser.add_argument("--explain", type=int, default=0, metavar="N", help="profile N requests")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = parser.parse_args()
    # `kill -USR1 <pid>` prints every thread's stack: where a stalled measurement waits.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    scenarios = args.scenarios.split(",")
    modes = args.modes.split(",")
    if args.requests + args.warmup > args.households:
        parser.error("--households must cover --requests + --warmup (one household a request)")

    data_dir = tempfile.mkdtemp(prefix="linli-intake-")
    _environment(data_dir)
    engine_name = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    print(f"database: {engine_name}; data folder {data_dir}", file=sys.stderr)
    subprocess.run([str(BIN / "linli"), "migrate", "-v0"], check=True)  # noqa: S603

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    plans: list[tuple[str, str]] = [("warmup", "hot")]
    for run in range(1, args.runs + 1):
        for scenario in scenarios:
            plans += [(f"{scenario}/{run}/{mode}", scenario) for mode in modes]
    if args.explain:
        plans.append(("explain", "hot"))
    began = time.perf_counter()
    stocks = {"hot": args.hot_stock, "many": args.many_stock}
    world = _build_world(args.households, plans, {**stocks, "warmup": 10**6})
    connection.close()
    print(f"built the world in {time.perf_counter() - began:.1f} s", file=sys.stderr)

    database = settings.DATABASES["default"]
    target = str(database["NAME"]) if engine_name == "sqlite" else os.environ["DATABASE_URL"]
    # Each measurement's households: a fresh sample; the warm-up uses others.
    rng = random.Random(args.seed)
    households = world.household_ids[: args.households]
    warm_households = households[-args.warmup :]
    pool = households[: -args.warmup] if args.warmup else households

    results: list[Measurement] = []
    log = Path(data_dir) / "gunicorn.log"
    with contextlib.ExitStack() as stack:
        base, server_pid = "", 0
        if "http" in modes:
            base, server_pid = stack.enter_context(_server(args.workers, args.threads, log))
            warm = world.rounds["warmup"]
            warm_orders = _orders_for(warm, "hot", warm_households, "warmup")
            outcomes, _ = asyncio.run(
                _load(base, world.token, warm.round_id, warm_orders, args.clients)
            )
            warm_kinds = Counter(o.kind for o in outcomes)
            print(f"warm-up: {dict(warm_kinds)}", file=sys.stderr)
            if warm_kinds["ok"] == 0:
                samples = {o.detail for o in outcomes}
                raise SystemExit(f"no warm-up order was accepted: {sorted(samples)[:3]}")
        ceiling_base, ceiling_pid = "", 0
        if "ceiling" in modes:
            ceiling_base, ceiling_pid = stack.enter_context(
                _server(args.workers, args.threads, log, app="ceiling_app:application")
            )
        for run in range(1, args.runs + 1):
            for scenario in scenarios:
                sample = rng.sample(pool, args.requests)
                template: list[OrderRequest] = []
                source = world.rounds[f"{scenario}/{run}/{modes[0]}"]
                for mode in modes:
                    plan = world.rounds[f"{scenario}/{run}/{mode}"]
                    tag = f"{scenario}{run}{mode}"
                    if not template:
                        template = _orders_for(plan, scenario, sample, tag)
                    orders = _with_offers(source, plan, template, tag)
                    if mode in ("http", "ceiling"):
                        url, pid = (
                            (base, server_pid) if mode == "http" else (ceiling_base, ceiling_pid)
                        )
                        meter = CpuMeter(pid)
                        meter.start()
                        outcomes, seconds = asyncio.run(
                            _load(url, world.token, plan.round_id, orders, args.clients)
                        )
                        cpu = meter.stop()
                    elif mode == "raw":
                        outcomes, seconds, cpu = _raw(
                            engine_name, target, plan, world, orders, args.clients
                        )
                    else:
                        outcomes, seconds, cpu = _action(world, plan, orders, args.clients)
                    m = _measurement(scenario, run, mode, plan, orders, outcomes, seconds, cpu)
                    results.append(m)
                    print(_summary(m), file=sys.stderr)
    server_errors = log.read_text(errors="replace") if log.exists() else ""

    explain = _explain(world, args.explain) if args.explain else ""
    print(f"\n{_describe(engine_name, args)}\n")
    print(_table(results))
    print()
    print(_cpu_table(results))
    if explain:
        print("\n" + explain)
    other = [line for line in server_errors.splitlines() if "Bad Request:" not in line]
    if other:
        print("\nserver log, other than 4xx warnings (last lines):\n" + "\n".join(other[-15:]))
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in results], ensure_ascii=False, indent=1))
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)


def _raw(
    engine: str,
    target: str,
    plan: RoundPlan,
    world: World,
    orders: Sequence[OrderRequest],
    clients: int,
) -> tuple[list[Outcome], float, dict[str, float]]:
    meter = CpuMeter(None)
    spent: dict[str, float] = {}

    def stop() -> None:
        spent.update(meter.stop())

    raw = intake_raw.run(
        engine=engine,
        target=target,
        round_id=plan.round_id,
        actor_id=world.staff_id,
        offers=plan.facts,
        orders=orders,
        clients=clients,
        on_start=meter.start,
        on_end=stop,
    )
    return raw.outcomes, raw.seconds, spent


def _action(
    world: World, plan: RoundPlan, orders: Sequence[OrderRequest], clients: int
) -> tuple[list[Outcome], float, dict[str, float]]:
    """`order_place` called in this process by `clients` threads (one connection each),
    loading what it needs as the endpoint would: no HTTP, no JSON, one Python process."""
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connection
    from django_scopes import scopes_disabled

    from linli.accounts.models import User
    from linli.registry.models import Household
    from linli.supply import actions
    from linli.supply.models import Offer, SupplyRound

    staff = User.objects.get(pk=world.staff_id)
    connection.close()
    outcomes: list[Outcome | None] = [None] * len(orders)
    lock = threading.Lock()
    next_index = 0
    gate = threading.Barrier(clients + 1)

    def client() -> None:
        nonlocal next_index
        gate.wait()
        while True:
            with lock:
                index = next_index
                next_index += 1
            if index >= len(orders):
                break
            order = orders[index]
            began = time.perf_counter()
            try:
                with scopes_disabled():
                    placed = actions.order_place(
                        actor=staff,
                        round=SupplyRound.objects.get(pk=plan.round_id),
                        household=Household.objects.select_related(
                            "unit__building", "community"
                        ).get(pk=order.household_id),
                        items=[
                            actions.ItemInput(offer, dict(order.items)[offer.pk])
                            for offer in Offer.objects.select_related("package").filter(
                                round_id=plan.round_id, pk__in=dict(order.items)
                            )
                        ],
                        idempotency_key=order.key,
                    )
            except ValidationError as exc:
                kind = "sold_out" if "已售罄" in str(exc) else "error"
                outcomes[index] = Outcome(index, kind, _ms(began), detail=str(exc)[:200])
            except Exception as exc:  # counted and shown, never silent
                outcomes[index] = Outcome(index, "error", _ms(began), detail=repr(exc)[:200])
            else:
                outcomes[index] = Outcome(index, "ok", _ms(began), order_id=placed.pk)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    meter = CpuMeter(None)
    meter.start()
    gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    return [o for o in outcomes if o is not None], seconds, meter.stop()


def _summary(m: Measurement) -> str:
    return (
        f"{m.scenario} run {m.run} {m.mode}: {m.requests_per_s:.0f} req/s, {m.ok} ok, "
        f"{m.sold_out} sold out, {m.errors} errors {m.error_samples[:2]}, "
        f"p50 {m.p50_ms:.1f} ms p99 {m.p99_ms:.1f} ms, oversold {m.oversold_units}, "
        f"lost {m.lost}, unacknowledged {m.unacknowledged_in_db}"
    )


def _describe(engine: str, args: argparse.Namespace) -> str:
    return (
        f"database {engine}; {args.clients} clients, {args.requests:,} requests per "
        f"measurement, {args.households:,} households; gunicorn gthread "
        f"{args.workers} workers × {args.threads} threads; stock hot {args.hot_stock:,}, "
        f"many {args.many_stock:,} × 7; cores {os.cpu_count()}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
