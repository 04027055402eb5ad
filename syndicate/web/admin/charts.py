"""Charts as SVG markup rendered on the server: no script, no library, readable on a phone.

Lines (one per group) and stacked bars (one stack per day), each with a y axis with
round ticks, day labels on the x axis, a legend and a <title> for screen readers (the
page also shows the same numbers as a table). Colours come from classes in admin.css
(``s-<group>``), so the page's CSP can forbid inline styles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260  # the desktop drawing; a phone gets NARROW (same font size)
NARROW = 340
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 64


def nice_ticks(top: int, count: int = 4) -> list[int]:
    """Round tick values from 0 to at least ``top`` (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, int(step))
    return list(range(0, math.ceil(top / step) * step + 1, step))


def _frame(
    title: str, ticks: list[int], labels: list[date], width: int
) -> tuple[list[str], float, float]:
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = ticks[-1] or 1
    size = "wide" if width == WIDTH else "narrow"
    parts = [
        f'<svg class="chart {size}" viewBox="0 0 {width} {HEIGHT}" role="img" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
    ]
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / top
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:,}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}"/>'
        f'<line class="axis" x1="{LEFT}" x2="{width - RIGHT}" y1="{TOP + plot_h}" '
        f'y2="{TOP + plot_h}"/>'
    )
    n = max(len(labels), 1)
    every = max(1, math.ceil(n / max(2, (width - LEFT) // 100)))
    for i, day in enumerate(labels):
        if i % every and i != n - 1:
            continue
        x = LEFT + plot_w * (i + 0.5) / n
        anchor = "end" if i == n - 1 else "middle"  # the last label stays inside
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="{anchor}">'
            f"{day:%d %b}</text>"
        )
    return parts, plot_w, plot_h


def _legend(groups: list[str], y: float, width: int) -> str:
    items, x = [], LEFT
    for name in groups:
        if x + 14 + 8 * len(name) > width:  # wrap to a second row
            x, y = LEFT, y + 16
        items.append(
            f'<rect class="s-{escape(name)}" x="{x}" y="{y - 9}" width="10" height="10"/>'
            f'<text class="legend" x="{x + 14}" y="{y}">{escape(name)}</text>'
        )
        x += 24 + 8 * len(name)
    return "".join(items)


def day_table(caption: str, labels: list[date], groups: dict[str, list[int]]) -> Markup:
    """A chart's numbers as a table (for screen readers, and to read exact values),
    folded under a summary: a row per day, a column per group."""
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in groups)
    rows = "".join(
        f'<tr><th scope="row">{day.isoformat()}</th>'
        + "".join(f"<td>{int(values[i])}</td>" for values in groups.values())
        + "</tr>\n"
        for i, day in enumerate(labels)
    )
    return Markup(  # noqa: S704 - names and caption escaped, the rest dates and numbers
        "<details><summary>The same numbers as a table</summary>\n"
        f'<div class="scroll"><table>\n<caption>{escape(caption)}</caption>\n'
        f'<thead><tr><th scope="col">Day</th>{head}</tr></thead>\n'
        f"<tbody>{rows}</tbody></table></div></details>"
    )


def both(
    draw: Callable[..., Markup], title: str, labels: list[date], groups: dict[str, list[int]]
) -> Markup:
    """The desktop and the phone drawing; admin.css shows the one that fits the screen."""
    return draw(title, labels, groups) + draw(title, labels, groups, NARROW)


def line_chart(
    title: str, labels: list[date], groups: dict[str, list[int]], width: int = WIDTH
) -> Markup:
    ticks = nice_ticks(max((max(v) for v in groups.values() if v), default=0))
    parts, plot_w, plot_h = _frame(title, ticks, labels, width)
    top, n = ticks[-1] or 1, max(len(labels), 1)
    for name, values in groups.items():
        points = " ".join(
            f"{LEFT + plot_w * (i + 0.5) / n:.1f},{TOP + plot_h - plot_h * v / top:.1f}"
            for i, v in enumerate(values)
        )
        parts.append(f'<polyline class="line s-{escape(name)}" points="{points}"/>')
    parts.append(_legend(list(groups), HEIGHT - 28, width))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or a number


def bar_chart(
    title: str, labels: list[date], groups: dict[str, list[int]], width: int = WIDTH
) -> Markup:
    totals = [sum(values[i] for values in groups.values()) for i in range(len(labels))]
    ticks = nice_ticks(max(totals, default=0))
    parts, plot_w, plot_h = _frame(title, ticks, labels, width)
    top, n = ticks[-1] or 1, max(len(labels), 1)
    bar = plot_w / n * 0.7
    for i in range(len(labels)):
        base = 0
        x = LEFT + plot_w * (i + 0.5) / n - bar / 2
        for name, values in groups.items():
            value = values[i]
            if value:
                y = TOP + plot_h - plot_h * (base + value) / top
                h = plot_h * value / top
                parts.append(
                    f'<rect class="s-{escape(name)}" x="{x:.1f}" y="{y:.1f}" '
                    f'width="{bar:.1f}" height="{h:.1f}"><title>{labels[i]:%d %b} '
                    f"{escape(name)}: {value:,}</title></rect>"
                )
            base += value
    parts.append(_legend(list(groups), HEIGHT - 28, width))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or a number
