"""The scaling chart: wall time per report and peak memory against the corpus size, per row (plain
SVG, no plotting library)."""

from __future__ import annotations

import math

from benchmarks.suite.report.figures import COLORS, ROW_LABELS, human, med, walls, with_memory


def _panel(x0, y0, w, h, title, ylabel, series, xs):
    """A line chart at (x0, y0) of size w x h; series: [(label, color, [(n, y), ...])], log x."""
    parts = [f'<text x="{x0 + w / 2}" y="{y0 - 12}" text-anchor="middle" font-size="14" font-weight="bold">{title}</text>']
    ymax = max((y for _, _, pts in series for _, y in pts), default=1) * 1.1 or 1
    step = 10 ** math.floor(math.log10(ymax / 5)) if ymax > 0 else 1
    for m in (1, 2, 5, 10):
        if ymax / (step * m) <= 6:
            step *= m
            break
    lx = [math.log10(n) for n in xs]
    lo, hi = min(lx) - 0.15, max(lx) + 0.15

    def px(n):
        return x0 + (math.log10(n) - lo) / (hi - lo) * w

    def py(y):
        return y0 + h - y / ymax * h

    parts.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    v = 0.0
    while v <= ymax:
        parts.append(f'<line x1="{x0}" x2="{x0 + w}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{x0 - 6}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="11">{v:,.0f}</text>')
        v += step
    for n in xs:
        parts.append(f'<text x="{px(n):.1f}" y="{y0 + h + 16}" text-anchor="middle" font-size="11">{human(n)}</text>')
    parts.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 34}" text-anchor="middle" font-size="12">reports (log scale)</text>')
    parts.append(f'<text x="{x0 - 52}" y="{y0 + h / 2}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 {x0 - 52} {y0 + h / 2})">{ylabel}</text>')
    for label, color, pts in series:
        if not pts:
            continue
        d = " ".join(f"{px(n):.1f},{py(y):.1f}" for n, y in pts)
        parts.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for n, y in pts:
            parts.append(f'<circle cx="{px(n):.1f}" cy="{py(y):.1f}" r="3.5" fill="{color}"/>')
    return parts


def svg(state) -> str | None:
    sizes = sorted(int(k) for k, v in state["sizes"].items() if "ingest" in v)
    if not sizes:
        return None
    per, mem = [], []
    for key, label in ROW_LABELS.items():
        pts, mpts = [], []
        for n in sizes:
            ing = state["sizes"][str(n)]["ingest"]
            runs = ing["rows"].get(key, [])
            if runs:
                pts.append((n, med(walls(runs)) / n * 1e6))
                mpts.append((n, max(r["tree_rss_kb"] for r in with_memory(ing, key)) / 1024))
        per.append((label.replace("`", ""), COLORS[key], pts))
        mem.append((label.replace("`", ""), COLORS[key], mpts))
    W, H = 980, 470
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">',
             f'<rect width="{W}" height="{H}" fill="white"/>']
    parts += _panel(80, 40, 360, 260, "Wall time per report", "µs per report (median wall / reports)", per, sizes)
    parts += _panel(580, 40, 360, 260, "Peak memory, whole process tree", "MiB (summed RSS)", mem, sizes)
    for i, (label, color, _) in enumerate(per):
        y = 360 + (i % 3) * 20
        x = 80 + (i // 3) * 450
        parts.append(f'<line x1="{x}" x2="{x + 24}" y1="{y - 4}" y2="{y - 4}" stroke="{color}" stroke-width="3"/>')
        parts.append(f'<text x="{x + 30}" y="{y}" font-size="12">{label}</text>')
    parts.append(f'<text x="80" y="{H - 20}" font-size="11" fill="#555">tlsrpt-warehouse benchmark suite, '
                 f'{state.get("machine", {}).get("cpu", "")}, {state.get("machine", {}).get("cores", "")} cores; '
                 f'flat lines = linear scaling</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
