"""The optional compiled helpers (``_cmatch``, built from ``_cmatch.c`` by setup.py).

Every caller has a pure-Python path giving the same results; ``_cmatch`` only makes them
faster. Set ``RAPPORTNOTES_PURE_PYTHON=1`` to use the Python paths even when it is built
(the test suite compares both).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

cmatch: Any = None
if not os.environ.get("RAPPORTNOTES_PURE_PYTHON"):
    try:
        cmatch = importlib.import_module(f"{__package__}._cmatch")
    except ImportError:  # pragma: no cover - depends on the build
        cmatch = None

__all__ = ["cmatch"]
