"""What the audit history records for volunteers and teams, with personal numbers masked.

Task changes are recorded by TaskEvent (who moved it from which status to which)."""

from __future__ import annotations

from auditlog.registry import auditlog

from linli.workforce import models


def register_models() -> None:
    auditlog.register(
        models.Volunteer,
        exclude_fields=["id_number_index", "phone_index"],
        mask_fields=["id_number", "phone"],
    )
    auditlog.register(models.Team, m2m_fields={"members", "buildings"})
