"""上门普查: the models."""

from __future__ import annotations
