"""Fair shares of one offer's stock among the households that asked for it.

Pure: requests in, units per household and the reason out. The rules, in order:
1. Round-robin: every requesting household gets one unit before any gets a second, a
   second before any gets a third, and so on, never more than it asked for.
2. Within each pass, households on the special-needs register come first, so when stock
   runs out part-way through a pass, it is the others who miss out.
3. Within each group the order is a shuffle by a recorded seed (households sorted by id
   first), so re-running with the same seed gives the same shares.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Request:
    household_id: int
    quantity: int
    on_register: bool = False


@dataclass(frozen=True)
class Share:
    household_id: int
    requested: int
    allocated: int
    reason: str


def queue(requests: Sequence[Request], seed: int) -> list[Request]:
    """The order households are served in each pass: register first, each group shuffled."""
    rng = random.Random(seed)  # noqa: S311 - fairness by a recorded seed, not secrecy
    register = sorted((r for r in requests if r.on_register), key=lambda r: r.household_id)
    others = sorted((r for r in requests if not r.on_register), key=lambda r: r.household_id)
    rng.shuffle(register)
    rng.shuffle(others)
    return register + others


def allocate(requests: Sequence[Request], stock: int, seed: int) -> list[Share]:
    """Share `stock` units among `requests` (one per household); returns one Share each."""
    wanted = {r.household_id: r.quantity for r in requests if r.quantity > 0}
    given = dict.fromkeys(wanted, 0)
    if sum(wanted.values()) <= stock:
        return [
            Share(r.household_id, r.quantity, r.quantity, _("库存充足，按需分配")) for r in requests
        ]
    order = [r for r in queue(requests, seed) if r.quantity > 0]
    position = {r.household_id: n for n, r in enumerate(order, start=1)}
    left = stock
    while left > 0:
        hungry = [r for r in order if given[r.household_id] < wanted[r.household_id]]
        if not hungry:
            break
        for request in hungry:
            if left == 0:
                break
            given[request.household_id] += 1
            left -= 1
    shares = []
    for request in requests:
        got = given.get(request.household_id, 0)
        place = position.get(request.household_id, 0)
        if got == request.quantity:
            reason = _("库存不足，轮流分配：第 %(n)d 位，已按需分到") % {"n": place}
        elif got == 0:
            reason = _("库存不足，轮流分配：第 %(n)d 位，本轮未分到") % {"n": place}
        else:
            reason = _("库存不足，轮流分配：第 %(n)d 位，每户先分 1 份，分到 %(got)d 份") % {
                "n": place,
                "got": got,
            }
        if request.on_register and got:
            reason = _("重点人群优先。") + reason
        shares.append(Share(request.household_id, request.quantity, got, reason))
    return shares
