"""The raw database limit for a first-come order: the same writes `order_place` makes, sent
as plain SQL through the database driver (the standard library's sqlite3, or psycopg 3), with
no Django, no HTTP and no checks in Python.

One transaction per order, as the action runs it:

    BEGIN (IMMEDIATE on SQLite, as Django's settings ask)
    UPDATE supply_offer SET remaining = remaining - q WHERE id = ? AND remaining >= q
        -- per item, in offer-id order; no row updated → ROLLBACK, "sold out"
    INSERT INTO supply_order (...) RETURNING id
    INSERT INTO supply_orderitem (...)   -- one row per item
    COMMIT

`CLIENTS` threads each hold their own connection (with the same SQLite pragmas as
linli/settings.py: WAL, synchronous=NORMAL, busy_timeout=10000, foreign_keys=ON) and take
the next order from a shared list until it is empty. The drivers release the GIL while the
database works, so the threads really wait on the database at once.

It is normally driven by bench/intake_bench.py, which makes the round, the offers and the
order list and checks the database afterwards; on its own it only runs `run()`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg


@dataclass(frozen=True)
class OrderRequest:
    """One order to place: a household, (offer id, quantity) pairs and an idempotency key."""

    household_id: int
    items: tuple[tuple[int, int], ...]
    key: str


@dataclass(frozen=True)
class OfferFacts:
    """What an item row copies from its offer (the action has these from the loaded offer)."""

    price_fen: int
    net_weight_g: int


@dataclass
class Outcome:
    """What happened to one order: "ok" with its order id, "sold_out" or "error"."""

    index: int
    kind: str
    latency_ms: float
    order_id: int | None = None
    detail: str = ""


@dataclass
class RawRun:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0


ORDER_SQL = (
    "INSERT INTO supply_order (round_id, household_id, status, channel, payment, placed_by_id,"
    " idempotency_key, pickup_code, funder, delivery_status, delivery_failure, created_at,"
    " updated_at) VALUES ({p}, {p}, 'placed', 'proxy', 'on_delivery', {p}, {p}, {p}, '',"
    " 'waiting', '', {p}, {p}) RETURNING id"
)
ITEM_SQL = (
    "INSERT INTO supply_orderitem (order_id, offer_id, quantity, allocated, allocation_note,"
    " price_fen, net_weight_g) VALUES ({p}, {p}, {p}, {p}, '', {p}, {p})"
)
TAKE_SQL = "UPDATE supply_offer SET remaining = remaining - {p} WHERE id = {p} AND remaining >= {p}"


class _SoldOut(Exception):
    pass


def _now_sqlite() -> str:
    # Django keeps SQLite datetimes as naive UTC text.
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")


def _place_sqlite(
    conn: sqlite3.Connection,
    round_id: int,
    actor_id: int,
    offers: dict[int, OfferFacts],
    order: OrderRequest,
) -> int:
    p = "?"
    conn.execute("BEGIN IMMEDIATE")
    try:
        for offer_id, quantity in order.items:
            cur = conn.execute(TAKE_SQL.format(p=p), (quantity, offer_id, quantity))
            if cur.rowcount != 1:
                raise _SoldOut
        now = _now_sqlite()
        row = conn.execute(
            ORDER_SQL.format(p=p),
            (
                round_id,
                order.household_id,
                actor_id,
                order.key,
                f"{secrets.randbelow(1_000_000):06d}",
                now,
                now,
            ),
        ).fetchone()
        order_id = int(row[0])
        conn.executemany(
            ITEM_SQL.format(p=p),
            [
                (
                    order_id,
                    offer_id,
                    quantity,
                    quantity,
                    offers[offer_id].price_fen,
                    offers[offer_id].net_weight_g,
                )
                for offer_id, quantity in order.items
            ],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return order_id


def _place_postgres(
    conn: psycopg.Connection[Any],
    round_id: int,
    actor_id: int,
    offers: dict[int, OfferFacts],
    order: OrderRequest,
) -> int:
    p = "%s"
    try:
        with conn.cursor() as cur:
            for offer_id, quantity in order.items:
                cur.execute(TAKE_SQL.format(p=p), (quantity, offer_id, quantity))
                if cur.rowcount != 1:
                    raise _SoldOut
            now = dt.datetime.now(dt.UTC)
            cur.execute(
                ORDER_SQL.format(p=p),
                (
                    round_id,
                    order.household_id,
                    actor_id,
                    order.key,
                    f"{secrets.randbelow(1_000_000):06d}",
                    now,
                    now,
                ),
            )
            row = cur.fetchone()
            assert row is not None
            order_id = int(row[0])
            cur.executemany(
                ITEM_SQL.format(p=p),
                [
                    (
                        order_id,
                        offer_id,
                        quantity,
                        quantity,
                        offers[offer_id].price_fen,
                        offers[offer_id].net_weight_g,
                    )
                    for offer_id, quantity in order.items
                ],
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return order_id


def _connect_sqlite(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def run(
    *,
    engine: str,
    target: str,
    round_id: int,
    actor_id: int,
    offers: dict[int, OfferFacts],
    orders: Sequence[OrderRequest],
    clients: int,
    on_start: Callable[[], None] | None = None,
    on_end: Callable[[], None] | None = None,
) -> RawRun:
    """Place `orders` with `clients` concurrent connections.

    `engine` is "sqlite" (target: the database file) or "postgresql" (target: a libpq URL).
    Connections are opened before the clock starts, as a server's pool would hold them;
    `on_start` and `on_end` are called as the clock starts and stops, with the connections
    still open (the bench reads the database server's CPU time there).
    """
    place: Callable[[Any, int, int, dict[int, OfferFacts], OrderRequest], int]
    conns: list[Any]
    if engine == "sqlite":
        conns = [_connect_sqlite(target) for _ in range(clients)]
        place = _place_sqlite
    elif engine == "postgresql":
        conns = [psycopg.connect(target) for _ in range(clients)]
        place = _place_postgres
    else:
        raise ValueError(f"unknown engine {engine!r}")

    lock = threading.Lock()
    next_index = 0
    result = RawRun(outcomes=[])
    outcomes: list[Outcome | None] = [None] * len(orders)
    start_gate = threading.Barrier(clients + 1)

    def client(conn: Any) -> None:
        nonlocal next_index
        start_gate.wait()
        while True:
            with lock:
                index = next_index
                next_index += 1
            if index >= len(orders):
                return
            began = time.perf_counter()
            try:
                order_id = place(conn, round_id, actor_id, offers, orders[index])
            except _SoldOut:
                outcomes[index] = Outcome(index, "sold_out", _ms(began))
            except Exception as exc:  # counted and shown, never silent
                outcomes[index] = Outcome(index, "error", _ms(began), detail=repr(exc)[:200])
            else:
                outcomes[index] = Outcome(index, "ok", _ms(began), order_id=order_id)

    threads = [threading.Thread(target=client, args=(conn,)) for conn in conns]
    for thread in threads:
        thread.start()
    if on_start is not None:
        on_start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    if on_end is not None:
        on_end()
    for conn in conns:
        conn.close()
    result.outcomes = [o for o in outcomes if o is not None]
    return result


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000
