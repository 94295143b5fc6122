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
from collections.abc import Sequence

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
    history (there is nothing to draw). Sessions are on the x-axis by session number when
    every session has one, else by date; the y-axis spans the measures' total range (0–40
    for the PCOMS scales). Lines differ by colour *and* dash/marker so a greyscale print
    stays readable.
    """
    series = [trajectory.measures[m] for m in measures if m in trajectory.measures]
    if not series:
        return None
    try:
        from matplotlib import rc_context
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None

    numbered = all(s.number is not None for s in trajectory.sessions)
    x_labels = [str(s.number) if numbered else s.date.isoformat() for s in trajectory.sessions]
    y_lo = min(s.total_min for s in series)
    y_hi = max(s.total_max for s in series)
    # DejaVu Sans is bundled with matplotlib: the same glyphs (and bytes) on every machine
    with rc_context({"font.family": "DejaVu Sans", "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False,
                     "path.simplify": False}):
        fig = Figure(figsize=(width_in, width_in * 0.5), dpi=150)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        for k, s in enumerate(series):
            colour = _COLOURS[k % len(_COLOURS)]
            xs = [p.session.index for p in s.points]
            ys = [p.total for p in s.points]
            ax.plot(xs, ys, color=colour, linestyle=_STYLES[k % len(_STYLES)],
                    marker=_MARKERS[k % len(_MARKERS)], markersize=4, linewidth=1.6,
                    label=s.short_name)
            cutoff = next((p.cutoff for p in reversed(s.points) if p.cutoff is not None), None)
            if cutoff is not None:
                ax.axhline(cutoff, color=colour, linestyle=":", linewidth=1.0, alpha=0.8)
                ax.annotate(f"{s.short_name} cutoff {cutoff:g}", xy=(1.0, cutoff),
                            xycoords=("axes fraction", "data"), xytext=(-2, 2),
                            textcoords="offset points", ha="right", va="bottom",
                            fontsize=7, color=colour)
        ax.set_ylim(y_lo, y_hi)
        ax.set_xlim(-0.3, max(len(x_labels) - 0.7, 0.3))
        ax.set_xticks(range(len(x_labels)))
        ax.set_xticklabels(x_labels, rotation=0 if numbered else 30,
                           ha="center" if numbered else "right")
        ax.set_xlabel("Session" if numbered else "Session date")
        ax.set_ylabel("Total score")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.legend(loc="lower left", frameon=False, ncol=len(series))
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
