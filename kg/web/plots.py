"""Plots of the evidence as SVG, drawn on the server: no script, readable in a screenshot, and
allowed by the pages' Content-Security-Policy (presentation attributes, no style).

- :func:`proportions_svg`: each proportion (count/n) as a point with its 95% Wilson interval on
  a 0–100% axis — an article's outcomes, or the same kind of outcome across studies (a
  forest-plot-like view: the point's size grows with n).
- :func:`bars_svg`: counts as horizontal bars (articles by year, by design).

Intervals come from statsmodels (``proportion_confint``, Wilson's score method), not from a
formula written here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from markupsafe import Markup, escape

#: Width of the drawing, its label column, and the axis (in SVG user units = CSS pixels).
WIDTH, LABEL_W, AXIS_W = 720, 250, 300
ROW_H, TOP, BOTTOM = 24, 30, 34
_INK, _MUTED, _ACCENT, _GRID = "#1f2933", "#616e7c", "#0b6e99", "#d9dee3"
_FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"
_LABEL_CHARS = 38  # a longer label is cut (the whole of it is the row's tooltip)


@dataclass(frozen=True)  # no slots: the interval is computed once, on first use
class Proportion:
    """One row of a proportion plot: ``count`` of ``n``, with what to call it."""

    label: str
    count: int
    n: int
    href: str | None = None  # where the label links to (an article page)
    note: str = ""  # said after the label in the tooltip (a PMID, the quote)

    @property
    def share(self) -> float:
        return self.count / self.n

    @cached_property
    def interval(self) -> tuple[float, float]:
        """The 95% Wilson score interval of the proportion (statsmodels)."""
        from statsmodels.stats.proportion import proportion_confint  # a second to import

        low, high = proportion_confint(self.count, self.n, alpha=0.05, method="wilson")
        return float(low), float(high)

    @property
    def text(self) -> str:
        """"19/27 · 70% (51.5–84.1)": the numbers as the plot prints them."""
        low, high = self.interval
        return f"{self.count}/{self.n} · {_percent(self.share)} ({100 * low:.1f}–{100 * high:.1f})"


def plottable(count: object, n: object) -> bool:
    """A count and a denominator a proportion can be drawn from."""
    return (
        isinstance(count, int) and isinstance(n, int) and not isinstance(count, bool)
        and 0 <= count <= n and n > 0
    )


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _cut(text: str, limit: int = _LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _text(x: float, y: float, body: str, *, anchor: str = "start", fill: str = _INK,
          size: int = 12, weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-size="{size}" '
        f'font-weight="{weight}" font-family="{_FONT}">{escape(body)}</text>'
    )


def proportions_svg(rows: Sequence[Proportion], *, title: str, sized: bool = False) -> Markup:
    """A dot-and-interval plot of ``rows`` (empty markup without rows). ``sized``: the point's
    area grows with n, as in a forest plot."""
    if not rows:
        return Markup("")
    height = TOP + ROW_H * len(rows) + BOTTOM
    x0, x1 = LABEL_W, LABEL_W + AXIS_W
    bottom = TOP + ROW_H * len(rows)

    def x(share: float) -> float:
        return x0 + AXIS_W * share

    largest = max(r.n for r in rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(8, 18, title, weight="600", size=13),
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line x1="{x(tick):.1f}" y1="{TOP - 4}" x2="{x(tick):.1f}" y2="{bottom}" '
                     f'stroke="{_GRID}" stroke-width="1"/>')
        parts.append(_text(x(tick), bottom + 16, _percent(tick), anchor="middle", fill=_MUTED,
                           size=11))
    parts.append(_text(x(0.5), bottom + 30, "proportion, with its 95% Wilson interval",
                       anchor="middle", fill=_MUTED, size=11))
    for i, r in enumerate(rows):
        y = TOP + ROW_H * i + ROW_H / 2
        low, high = r.interval
        tip = f"{r.label}{' — ' + r.note if r.note else ''}: {r.text}"
        label = _text(8, y + 4, _cut(r.label))
        if r.href:
            label = f'<a href="{escape(r.href)}">{label}</a>'
        radius = 3.5 + (4.5 * math.sqrt(r.n / largest) if sized else 1.0)
        parts.append(
            f'<g class="row"><title>{escape(tip)}</title>{label}'
            f'<line x1="{x(low):.1f}" y1="{y:.1f}" x2="{x(high):.1f}" y2="{y:.1f}" '
            f'stroke="{_ACCENT}" stroke-width="2"/>'
            f'<line x1="{x(low):.1f}" y1="{y - 5:.1f}" x2="{x(low):.1f}" y2="{y + 5:.1f}" '
            f'stroke="{_ACCENT}" stroke-width="2"/>'
            f'<line x1="{x(high):.1f}" y1="{y - 5:.1f}" x2="{x(high):.1f}" y2="{y + 5:.1f}" '
            f'stroke="{_ACCENT}" stroke-width="2"/>'
            f'<circle cx="{x(r.share):.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{_INK}"/>'
            + _text(x1 + 12, y + 4, r.text, size=12)
            + "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bars_svg(counts: Sequence[tuple[str, int]], *, title: str, unit: str = "articles") -> Markup:
    """Horizontal bars, one per (label, count), in the order given (empty without counts)."""
    counts = [(k, v) for k, v in counts if v > 0]
    if not counts:
        return Markup("")
    width, label_w, bar_w = 420, 140, 220
    height = TOP + ROW_H * len(counts) + 10
    most = max(v for _, v in counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        _text(8, 18, title, weight="600", size=13),
    ]
    for i, (label, value) in enumerate(counts):
        y = TOP + ROW_H * i
        w = max(1.0, bar_w * value / most)
        parts.append(
            f"<g><title>{escape(f'{label}: {value} {unit}')}</title>"
            + _text(8, y + 15, _cut(label, 20))
            + f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{ROW_H - 8}" '
            f'fill="{_ACCENT}"/>'
            + _text(label_w + w + 6, y + 15, str(value), fill=_MUTED, size=11)
            + "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
