"""Pieces of the self-contained HTML report: pure functions from numbers (and JPEG bytes) to
markup. No network, no script: charts are inline SVG, eyes are data: URIs, so the page
opens the same from a laptop, a mail attachment or a node with no route out."""

import base64
import html
from collections.abc import Sequence

GRADE_NAMES = ("0 none", "1 mild", "2 moderate", "3 severe", "4 proliferative")

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:4px 8px;text-align:right}
.heat td{width:58px;height:34px;text-align:center;font-weight:600}
.kappa{font-size:2.2em;font-weight:700}.muted{color:#666}
.bar{display:inline-block;height:12px;background:#3b7dd8;vertical-align:middle}
.strip{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 12px}
.eye{font-size:12px;text-align:center;width:100px}.eye img{width:100px;height:100px}
.wrong{color:#b00020;font-weight:600}
"""


def esc(value) -> str:
    return html.escape(str(value))


def page(title: str, body: Sequence[str]) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{esc(title)}"
            f"</title><style>{STYLE}</style></head><body><h1>{esc(title)}</h1>"
            + "".join(body) + "</body></html>")  # fmt: skip


def kappa_block(kappa: float, interval: tuple[float, float] | None, scored: int,
                what: str) -> str:  # fmt: skip
    band = (f" <span class=muted>95 % interval {interval[0]:.3f} .. {interval[1]:.3f} "
            "(subjects resampled)</span>" if interval else "")  # fmt: skip
    return (
        f"<p><span class=kappa>&kappa; = {kappa:.3f}</span>{band}<br>"
        f"<span class=muted>quadratic weighted kappa on {scored} {esc(what)}</span></p>"
    )


def heat_map(confusion: list[list[int]]) -> str:
    """Rows: true grade; columns: predicted. Each cell shaded by its share of its row."""
    head = "".join(f"<th>{g}</th>" for g in range(len(confusion)))
    rows = []
    for grade, row in enumerate(confusion):
        total = sum(row) or 1
        cells = []
        for pred, n in enumerate(row):
            share = n / total
            hue = 130 if pred == grade else 0  # the diagonal green, the errors red
            colour = f"hsl({hue},60%,{100 - 55 * share:.0f}%)"
            ink = "#fff" if share > 0.6 else "#222"
            cells.append(f'<td style="background:{colour};color:{ink}" '
                         f'title="{share:.0%} of true grade {grade}">{n}</td>')  # fmt: skip
        rows.append(f"<tr><th>{esc(GRADE_NAMES[grade])}</th>{''.join(cells)}</tr>")
    return f"<table class=heat><tr><th>true \\ predicted</th>{head}</tr>{''.join(rows)}</table>"


def bars(values: dict, unit: str = "", scale: float | None = None) -> str:
    """A labelled horizontal bar per entry (None: shown as n/a)."""
    present = [v for v in values.values() if v is not None]
    top = scale or max(present, default=1) or 1
    rows = []
    for name, value in values.items():
        if value is None:
            rows.append(f"<tr><th>{esc(name)}</th><td class=muted>n/a</td><td></td></tr>")
            continue
        width = max(1, round(300 * value / top))
        rows.append(f"<tr><th>{esc(name)}</th><td>{value:.{3 if unit == '' else 1}f}{unit}</td>"
                    f'<td style="text-align:left"><span class=bar style="width:{width}px">'
                    "</span></td></tr>")  # fmt: skip
    return f"<table>{''.join(rows)}</table>"


def svg(name: str, text: str = "", **attrs) -> str:
    """One SVG element, every attribute quoted (an unquoted value before "/>" would
    swallow the slash and leave the element open)."""
    pairs = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    return f"<{name}{pairs}>{esc(text)}</{name}>" if text else f"<{name}{pairs}/>"


def line_chart(series: dict[str, list[tuple[float, float]]], *, x_label: str, y_label: str,
               bands: dict[str, list[tuple[float, float, float]]] | None = None,
               log_x: bool = False) -> str:  # fmt: skip
    """Inline SVG: one polyline per series; `bands` draws (x, low, high) error bars."""
    import math

    width, height, pad = 560, 260, 46
    points = [p for s in series.values() for p in s]
    points += [(x, v) for b in (bands or {}).values() for x, lo, hi in b for v in (lo, hi)]
    if not points:
        return "<p class=muted>no data</p>"
    fx = math.log2 if log_x else float
    xs, ys = [fx(x) for x, _ in points], [y for _, y in points]
    x0, x1 = min(xs), (max(xs) if max(xs) > min(xs) else min(xs) + 1)
    y0 = min(0.0, min(ys))
    y1 = max(ys) if max(ys) > y0 else y0 + 1

    def at(x, y):
        return (round(pad + (fx(x) - x0) / (x1 - x0) * (width - 2 * pad), 1),
                round(height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad), 1))  # fmt: skip

    colours = ("#3b7dd8", "#d83b5e", "#2a9d55", "#9b59b6")
    parts = [svg("line", x1=pad, y1=height - pad, x2=width - pad, y2=height - pad, stroke="#999"),
             svg("line", x1=pad, y1=pad, x2=pad, y2=height - pad, stroke="#999")]  # fmt: skip
    for value in (y0, (y0 + y1) / 2, y1):
        y = at(points[0][0], value)[1]
        parts.append(svg("text", f"{value:.2f}", x=pad - 6, y=y + 4, text_anchor="end",
                         font_size=11))  # fmt: skip
    for x in sorted({x for x, _ in points}):
        parts.append(svg("text", f"{x:g}", x=at(x, y0)[0], y=height - pad + 16,
                         text_anchor="middle", font_size=11))  # fmt: skip
    for i, (name, data) in enumerate(series.items()):
        colour = colours[i % len(colours)]
        for x, lo, hi in (bands or {}).get(name, []):
            (a, b_lo), (_, b_hi) = at(x, lo), at(x, hi)
            a += 4 * i - 2  # side by side, not on top of each other
            parts.append(svg("line", x1=a, y1=b_lo, x2=a, y2=b_hi, stroke=colour,
                             stroke_opacity=0.35, stroke_width=5))  # fmt: skip
        coords = " ".join(f"{a},{b}" for a, b in (at(x, y) for x, y in data))
        parts.append(svg("polyline", fill="none", stroke=colour, stroke_width=2, points=coords))
        parts += [
            svg("circle", cx=a, cy=b, r=3, fill=colour) for a, b in (at(x, y) for x, y in data)
        ]
        parts.append(svg("text", name, x=width - pad + 6, y=pad + 14 * i, font_size=11,
                         fill=colour))  # fmt: skip
    parts.append(svg("text", x_label, x=width / 2, y=height - 8, text_anchor="middle",
                     font_size=12))  # fmt: skip
    parts.append(svg("text", y_label, x=12, y=height / 2, font_size=12, text_anchor="middle",
                     transform=f"rotate(-90 12 {height / 2})"))  # fmt: skip
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 110}" height="{height}" '
        f'role="img" aria-label="{esc(y_label)} by {esc(x_label)}">{"".join(parts)}</svg>'
    )


def jpeg_uri(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def eye_strips(examples: dict[int, list[tuple[str, bytes, int]]]) -> str:
    """Per true grade, a strip of (image name, JPEG bytes, predicted grade), given worst
    mistakes first."""
    out = []
    for grade in sorted(examples):
        eyes = []
        for name, jpeg, pred in examples[grade]:
            mark = " class=wrong" if pred != grade else ""
            eyes.append(f'<div class=eye><img src="{jpeg_uri(jpeg)}" alt="{esc(name)}"><br>'
                        f"{esc(name)}<br><span{mark}>predicted {pred}</span></div>")  # fmt: skip
        out.append(f"<h3>true grade {esc(GRADE_NAMES[grade])}</h3>"
                   f"<div class=strip>{''.join(eyes)}</div>")  # fmt: skip
    return "".join(out)
