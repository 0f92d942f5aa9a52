"""诉求分诊: the models."""

from __future__ import annotations
