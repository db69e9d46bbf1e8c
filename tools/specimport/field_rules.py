"""One-of groups and value conditions written into the specs (tools/spec_rules.yaml)."""

from __future__ import annotations

from typing import Any

from .repairs import Repairs


def apply_field_rules(key: str, method: str, entry: dict[str, Any], repairs: Repairs) -> None:
    """Write the policy's groups and conditions for one operation into its schemas."""
