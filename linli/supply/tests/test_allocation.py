"""Fair allocation: register households first, one before two, the same shares for the
same seed, and (hypothesis) never more than the stock nor a second unit while another
requesting household has none."""

from __future__ import annotations

from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.supply.allocation import Request, allocate


class AllocateTest(SimpleTestCase):
    def test_it_gives_everyone_what_they_asked_when_stock_is_enough(self) -> None:
        shares = allocate([Request(1, 2), Request(2, 1)], stock=3, seed=7)
        self.assertEqual([s.allocated for s in shares], [2, 1])
        self.assertEqual(shares[0].reason, "库存充足，按需分配")

    def test_it_serves_register_households_first_within_a_pass(self) -> None:
        requests = [Request(n, 1, on_register=n in (5, 9)) for n in range(1, 11)]
        shares = {s.household_id: s for s in allocate(requests, stock=3, seed=1)}
        self.assertEqual(shares[5].allocated, 1)
        self.assertEqual(shares[9].allocated, 1)
        self.assertTrue(shares[5].reason.startswith("重点人群优先。"))
        self.assertEqual(sum(s.allocated for s in shares.values()), 3)

    def test_it_gives_one_each_before_anyone_gets_two(self) -> None:
        shares = allocate([Request(1, 3), Request(2, 3), Request(3, 1)], stock=5, seed=3)
        self.assertEqual(sorted(s.allocated for s in shares), [1, 2, 2])

    def test_it_gives_the_same_shares_for_the_same_seed(self) -> None:
        requests = [Request(n, 2, on_register=n % 7 == 0) for n in range(1, 60)]
        first = allocate(requests, stock=40, seed=2026)
        self.assertEqual(allocate(list(reversed(requests)), stock=40, seed=2026)[::-1], first)
        other = allocate(requests, stock=40, seed=2027)
        self.assertNotEqual([s.allocated for s in other], [s.allocated for s in first])

    def test_it_explains_each_share(self) -> None:
        shares = allocate([Request(1, 2), Request(2, 2)], stock=3, seed=0)
        texts = sorted(s.reason for s in shares)
        self.assertRegex(texts[0], r"^库存不足，轮流分配：第 \d 位，")

    @settings(max_examples=300, deadline=None)
    @given(
        requests=st.lists(st.tuples(st.integers(1, 5), st.booleans()), min_size=0, max_size=40),
        stock=st.integers(0, 120),
        seed=st.integers(0, 2**31),
    )
    def test_it_never_exceeds_stock_and_never_gives_two_while_one_has_none(
        self, requests: list[tuple[int, bool]], stock: int, seed: int
    ) -> None:
        asked = [Request(n, q, r) for n, (q, r) in enumerate(requests, start=1)]
        shares = allocate(asked, stock=stock, seed=seed)
        total = sum(s.allocated for s in shares)
        self.assertLessEqual(total, stock)
        self.assertEqual(total, min(stock, sum(q for q, _ in requests)))  # nothing held back
        for share in shares:
            self.assertLessEqual(share.allocated, share.requested)
        lowest = min((s.allocated for s in shares), default=0)
        highest = max((s.allocated for s in shares), default=0)
        unsatisfied = [s for s in shares if s.allocated < s.requested]
        if unsatisfied:
            # Whoever still wants more has at least as much as anyone minus one.
            self.assertLessEqual(highest - min(s.allocated for s in unsatisfied), 1)
        if any(s.allocated == 0 for s in shares):
            self.assertLessEqual(highest, 1)
        self.assertGreaterEqual(lowest, 0)
        # Register households are never behind: if any of them got nothing, nobody else
        # got anything either.
        if any(r.on_register and s.allocated == 0 for r, s in zip(asked, shares, strict=True)):
            self.assertTrue(
                all(
                    s.allocated == 0
                    for r, s in zip(asked, shares, strict=True)
                    if not r.on_register
                )
            )
