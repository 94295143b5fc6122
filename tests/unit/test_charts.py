"""The measure chart: real PNG bytes, stable run to run, None when there is nothing to draw."""

from __future__ import annotations

import struct
import zlib
from datetime import date, timedelta

import pytest

from rapportnotes.charts import measure_chart_png
from rapportnotes.models import SessionObservation
from rapportnotes.trajectory import Trajectory, build_trajectory

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def history(numbered: bool = True) -> Trajectory:
    sessions = []
    for i, (srs, ors) in enumerate([(38, 19), (37, 21), (35, 22), (33, 20)], start=1):
        sessions.append(SessionObservation.model_validate({
            "client": {"id": "T-1", "age": 30},
            "clinician": {"name": "Test Clinician"},
            "session": {"date": (date(2026, 1, 5) + timedelta(days=7 * i)).isoformat(),
                        "start_time": "09:00", "end_time": "09:50",
                        **({"number": i} if numbered else {})},
            "rapport": {"measures": [{"measure": "ors", "items": [ors / 4] * 4},
                                     {"measure": "srs", "items": [srs / 4] * 4}]},
        }))
    return build_trajectory(sessions)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def text_chunks(data: bytes) -> list[bytes]:
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + length:
                                                                 pos + 12 + length])[0]
        if kind in (b"tEXt", b"iTXt", b"zTXt"):
            out.append(body)
        pos += 12 + length
    return out


def test_png_signature_size_and_determinism() -> None:
    tr = history()
    data = measure_chart_png(tr)
    assert data is not None
    assert data.startswith(PNG_SIGNATURE)
    assert 5_000 < len(data) < 500_000
    width, height = png_size(data)
    assert (width, height) == (900, 450)  # 6 x 3 inches at 150 dpi
    assert measure_chart_png(tr) == data  # byte-identical run to run
    assert not any(b"Software" in chunk for chunk in text_chunks(data))


def test_width_and_dates_on_axis() -> None:
    data = measure_chart_png(history(numbered=False), ("srs",), width_in=4.0)
    assert data is not None and data.startswith(PNG_SIGNATURE)
    assert png_size(data) == (600, 300)


def test_nothing_to_draw_returns_none() -> None:
    assert measure_chart_png(history(), ("wai-sr",)) is None
