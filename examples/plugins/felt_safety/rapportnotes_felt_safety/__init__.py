"""Felt-safety check-in: a clinic-defined measure exposed to rapportnotes as plain data.

The definition lives in ``felt_safety.json`` so clinicians can review it without reading
code; rapportnotes validates the dict when the measure is first used. Importing this module
does not import rapportnotes.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

FELT_SAFETY: dict[str, Any] = json.loads(
    files(__name__).joinpath("felt_safety.json").read_text(encoding="utf-8")
)

__all__ = ["FELT_SAFETY"]
