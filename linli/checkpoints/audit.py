"""What the audit history records for checkpoints: their set-up, couriers and goods."""

from __future__ import annotations

from auditlog.registry import auditlog

from linli.checkpoints import models


def register_models() -> None:
    auditlog.register(models.Checkpoint, m2m_fields={"keepers", "buildings"})
    auditlog.register(models.CheckpointGate)
    auditlog.register(models.CourierEntry, mask_fields=["phone"])
    auditlog.register(models.GoodsReceipt)
