"""Background work of 关爱回访 (Django's task API, the django-tasks backport): the morning's
worklist and the afternoon's escalation. Both are idempotent, so a cron line that enqueues
them (`linli care worklist generate --enqueue`, `linli care escalate --enqueue`) may fire as
often as wanted; `linli db_worker` runs them, the immediate backend inline in tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from linli.care import actions


@task()
def worklist_generate(day: str = "") -> int:
    """The check-ins of a day (ISO date; empty: today in Shanghai). Returns how many were made."""
    return actions.worklist_generate(dt.date.fromisoformat(day) if day else timezone.localdate())


@task()
def check_ins_escalate(now: str = "") -> int:
    """The escalation chain for every check-in still unreached at its community's hour."""
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    return len(actions.check_ins_escalate(moment))
