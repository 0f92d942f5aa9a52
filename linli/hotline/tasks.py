"""Background work for the hotline: escalating overdue tickets at their deadlines.

Each ticket's next deadline enqueues `escalate_overdue_tickets` to run then (on a backend
that can defer, as the database backend's `linli db_worker` does); `linli hotline escalate`
from cron runs the same action, so a missed or lost task only delays, never skips, it.
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def escalate_overdue_tickets() -> int:
    from linli.hotline.actions import tickets_escalate

    return len(tickets_escalate())


def schedule_escalation(at: dt.datetime) -> None:
    """Ask a worker to look at `at` (a second after, so the deadline has passed)."""
    if not escalate_overdue_tickets.get_backend().supports_defer:
        return  # the immediate backend (tests) would run it now; cron covers that setup
    escalate_overdue_tickets.using(run_after=at + dt.timedelta(seconds=1)).enqueue()
