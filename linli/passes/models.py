"""外出就医证明: the models."""

from __future__ import annotations
