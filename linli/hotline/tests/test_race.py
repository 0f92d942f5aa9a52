"""Races on the real database with real threads: twenty hands on one ticket at once."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.test import TransactionTestCase
from django_scopes import scopes_disabled

from linli.hotline import actions
from linli.hotline.choices import Channel, EventKind, TicketStatus
from linli.hotline.models import Ticket, TicketEvent
from linli.registry.models import Community, Household, Street
from linli.test import make_place, make_user
from linli.workforce.tests.test_race import run_at_once

HANDS = 20


class TicketRaceTest(TransactionTestCase):
    def setUp(self) -> None:
        with scopes_disabled():
            street = Street.objects.create(name="和平街道", code="heping")
            self.community = Community.objects.create(street=street, name="阳光社区", code="yg")
            unit = make_place(self.community, "阳光小区", "1号楼", "1单元")
            household = Household(room="101")
            household.place_in(unit)
            household.save()
            self.operators = [
                make_user(f"operator{n}", "hotline_operator", community=self.community)
                for n in range(HANDS)
            ]
            self.ticket = actions.ticket_create(
                self.operators[0],
                actions.TicketInput(
                    community=self.community,
                    channel=Channel.PHONE,
                    description="楼道灯坏了，老人晚上下楼看不见",
                    household=household,
                ),
            )

    def test_it_lets_exactly_one_of_twenty_operators_accept_a_ticket(self) -> None:
        def accept(n: int) -> Callable[[], Ticket]:
            return lambda: actions.ticket_accept(
                actor=self.operators[n], ticket=Ticket.objects.get(pk=self.ticket.pk)
            )

        outcomes = run_at_once([accept(n) for n in range(HANDS)])

        accepted = [o for o in outcomes if isinstance(o, Ticket)]
        refused = [o for o in outcomes if isinstance(o, ValidationError)]
        others = [o for o in outcomes if not isinstance(o, Ticket | ValidationError)]
        self.assertEqual(others, [])
        self.assertEqual(len(accepted), 1)
        self.assertEqual(len(refused), HANDS - 1)
        for error in refused:
            self.assertIn("status", error.message_dict)
        with scopes_disabled():
            ticket = Ticket.objects.get(pk=self.ticket.pk)
            self.assertEqual(ticket.status, TicketStatus.ACCEPTED)
            # One line in the timeline, by the one who won.
            moves = TicketEvent.objects.filter(
                ticket=ticket, kind=EventKind.STATUS, to_status=TicketStatus.ACCEPTED
            )
            self.assertEqual(moves.count(), 1)
            winner = self.operators[outcomes.index(accepted[0])]
            self.assertEqual(moves.get().actor_id, winner.pk)
            self.assertIsNotNone(ticket.accepted_at)
