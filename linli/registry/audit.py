"""What the audit history records for the registry, with personal fields masked in it."""

from __future__ import annotations

from auditlog.registry import auditlog

from linli.registry import models

# Derived columns add nothing to the history and the indexes must not be kept beside it.
_DERIVED = ["name_search", "id_number_index", "phone_index", "phone_last4", "updated_at"]


def register_models() -> None:
    auditlog.register(models.Household, exclude_fields=["updated_at", "room_sort_key"])
    auditlog.register(models.Resident, exclude_fields=_DERIVED, mask_fields=["id_number", "phone"])
    auditlog.register(
        models.CareProfile,
        exclude_fields=["updated_at"],
        mask_fields=["conditions"],
        mask_callable="linli.lib.masking.mask_completely",
    )
    auditlog.register(models.CareTagAssignment)
    auditlog.register(models.EmergencyContact, mask_fields=["phone"])
    auditlog.register(models.Grid, m2m_fields={"workers"})
    auditlog.register(models.Building, exclude_fields=["sort_key"])
    auditlog.register(models.Unit, exclude_fields=["sort_key"])
    auditlog.register(models.UserArea)
    # Its field-work rules (test hours, goods hold) change how volunteers and goods are handled.
    auditlog.register(models.Community)
