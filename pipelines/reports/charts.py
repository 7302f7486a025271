"""Inline SVG charts: no script, no network, every label escaped."""

from __future__ import annotations

from html import escape

BAR = "#3d6fb6"
USED = "#2f8f5b"
MUTED = "#c9cfd9"


def histogram(values: list[float], *, bins: list[tuple[float, float, str]], title: str, chart_id: str) -> str:
    """Vertical bars counting values per (low, high, label) bin; the last bin includes its upper bound."""
    counts = [
        sum(1 for v in values if low <= v < high or (i == len(bins) - 1 and v == high))
        for i, (low, high, _) in enumerate(bins)
    ]
    width, height, pad = 46 * len(bins) + 40, 190, 30
    top = max(counts or [0]) or 1
    bars = []
    for i, ((_, _, label), count) in enumerate(zip(bins, counts)):
        bar_height = (height - 2 * pad) * count / top
        x = 30 + i * 46
        y = height - pad - bar_height
        bars.append(
            f'<rect x="{x}" y="{y:.1f}" width="36" height="{bar_height:.1f}" fill="{BAR}"><title>{escape(label)}: '
            f'{count}</title></rect><text x="{x + 18}" y="{y - 4:.1f}" text-anchor="middle">{count}</text>'
            f'<text x="{x + 18}" y="{height - pad + 14}" text-anchor="middle" class="axis">{escape(label)}</text>'
        )
    return (
        f'<figure id="{escape(chart_id)}"><svg role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f"<title>{escape(title)}</title>{''.join(bars)}</svg><figcaption>{escape(title)}</figcaption></figure>"
    )


def granted_vs_used(rows: list[tuple[str, int, int]], *, title: str, chart_id: str, limit: int = 8) -> str:
    """Horizontal bars per service: granted actions (grey) with the used ones (green) over them."""
    rows = rows[:limit]
    top = max((g for _, g, _ in rows), default=1) or 1
    width, row_height, label_width = 520, 22, 150
    bars = []
    for i, (service, granted, used) in enumerate(rows):
        y = 8 + i * row_height
        granted_width = (width - label_width - 60) * granted / top
        used_width = (width - label_width - 60) * used / top
        bars.append(
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escape(service)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{granted_width:.1f}" height="16" fill="{MUTED}"/>'
            f'<rect x="{label_width}" y="{y}" width="{used_width:.1f}" height="16" fill="{USED}"/>'
            f'<text x="{label_width + granted_width + 4:.1f}" y="{y + 13}">{used}/{granted}</text>'
        )
    height = 16 + row_height * len(rows)
    return (
        f'<figure id="{escape(chart_id)}" class="small"><svg role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}"><title>{escape(title)}</title>{"".join(bars)}</svg><figcaption>{escape(title)}'
        "</figcaption></figure>"
    )
