"""A small, deterministic PNG chart of measure totals across sessions.

matplotlib is an optional extra (``pip install rapportnotes[chart]``): it is imported inside
the function, with the non-interactive Agg canvas and without pyplot, so importing
rapportnotes stays fast, never opens a window and never touches pyplot's global state (safe
in a web server thread). The same trajectory always gives the same bytes: the font, DPI and
size are fixed and the PNG "Software" text chunk is dropped, so a note's .docx does not change
when nothing clinical changed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from .notes import ChartSeries
from .trajectory import Trajectory

_COLOURS = ("#1f4e79", "#8c2d04", "#2e6b30", "#5b3a8c", "#7a6a00")
_STYLES = ("-", "--", "-.", ":", "-")
_MARKERS = ("o", "s", "^", "D", "v")


def measure_chart_png(
    trajectory: Trajectory,
    measures: Sequence[str] = ("srs", "ors"),
    *,
    width_in: float = 6.0,
) -> bytes | None:
    """Plot the totals of ``measures`` per session with their cutoff lines; return PNG bytes.

    Returns None when matplotlib is not installed or none of ``measures`` was given in the
    history (there is nothing to draw).
    """
    wanted = {m.lower() for m in measures}
    series = [cs for cs in trajectory.chart_series()
              if cs.measure.split(" ")[0].lower() in wanted]
    return series_chart_png(series, width_in=width_in)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"^#(\d+)")


def _order_key(label: str) -> str:
    found = _DATE.search(label)
    return found.group(0) if found else label


def series_chart_png(series: Sequence[ChartSeries], *, width_in: float = 6.0) -> bytes | None:
    """Plot plain chart data (what a :class:`~rapportnotes.notes.Note` carries) as PNG.

    Exporters only see the note model, so the chart is drawn from its ``ChartSeries`` and
    not from a live trajectory. Sessions are on the x-axis by session number when every
    point has one, else by date; lines differ by colour *and* dash/marker so a greyscale
    print stays readable. Returns None without matplotlib or without data.
    """
    series = [s for s in series if s.points]
    if not series:
        return None
    try:
        from matplotlib import rc_context
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None

    labels = sorted({p.session for s in series for p in s.points}, key=_order_key)
    position = {label: i for i, label in enumerate(labels)}
    numbers = [_NUMBER.match(label) for label in labels]
    numbered = all(numbers)
    ticks = [m.group(1) if m else "" for m in numbers] if numbered else [
        _order_key(label) for label in labels]
    y_hi = max(s.maximum for s in series)
    # DejaVu Sans is bundled with matplotlib: the same glyphs (and bytes) on every machine
    with rc_context({"font.family": "DejaVu Sans", "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False,
                     "path.simplify": False}):
        fig = Figure(figsize=(width_in, width_in * 0.5), dpi=150)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        for k, s in enumerate(series):
            colour = _COLOURS[k % len(_COLOURS)]
            xs = [position[p.session] for p in s.points]
            ys = [p.value for p in s.points]
            ax.plot(xs, ys, color=colour, linestyle=_STYLES[k % len(_STYLES)],
                    marker=_MARKERS[k % len(_MARKERS)], markersize=4, linewidth=1.6,
                    label=s.measure)
            if s.cutoff is not None:
                ax.axhline(s.cutoff, color=colour, linestyle=":", linewidth=1.0, alpha=0.8)
                ax.annotate(f"{s.measure} cutoff {s.cutoff:g}", xy=(1.0, s.cutoff),
                            xycoords=("axes fraction", "data"), xytext=(-2, 2),
                            textcoords="offset points", ha="right", va="bottom",
                            fontsize=7, color=colour)
        ax.set_ylim(0, y_hi)
        ax.set_xlim(-0.3, max(len(labels) - 0.7, 0.3))
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(ticks, rotation=0 if numbered else 30,
                           ha="center" if numbered else "right")
        ax.set_xlabel("Session" if numbered else "Session date")
        ax.set_ylabel("Total score")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.legend(loc="lower left", frameon=False, ncol=len(series))
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
