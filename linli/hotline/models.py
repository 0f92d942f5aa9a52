"""24小时专线: the models."""

from __future__ import annotations
