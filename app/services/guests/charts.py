"""Charts of a guest's rrddata (CPU, memory, network, disk I/O), drawn as server-side SVG.

PVE's rrddata is a list of samples: {"time", "cpu", "maxcpu", "mem", "maxmem", "netin",
"netout", "diskread", "diskwrite", ...}; a sample may lack a value (the guest was off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.formatting import human_bytes

WIDTH, HEIGHT = 600, 160


@dataclass
class Series:
    """One line of a chart: its label, CSS class and SVG points ("x,y x,y ...")."""

    label: str
    css: str
    points: str


@dataclass
class Chart:
    """A chart ready to draw: lines scaled into WIDTH x HEIGHT, and its axis labels."""

    title: str
    top_label: str
    start_label: str
    end_label: str
    series: list[Series] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


def _per_second(value: float) -> str:
    return human_bytes(value) + "/s"


METRICS = (
    # title, [(key, label, css)], how to label the top of the axis, the lowest top (1 % CPU
    # keeps an idle guest's line from filling the chart)
    ("CPU", [("cpu", "CPU", "s1")], lambda top: f"{top * 100:.0f} %", 0.01),
    ("Memory", [("mem", "used", "s1"), ("maxmem", "total", "s2")], human_bytes, 0.0),
    ("Network", [("netin", "in", "s1"), ("netout", "out", "s2")], _per_second, 0.0),
    ("Disk I/O", [("diskread", "read", "s1"), ("diskwrite", "write", "s2")], _per_second, 0.0),
)


def build_charts(samples: list[dict]) -> list[Chart]:
    """The four charts of a guest for one timeframe; charts without data say so."""
    timed = sorted((s for s in samples if isinstance(s.get("time"), int | float)), key=_time)
    start = _time(timed[0]) if timed else 0
    end = _time(timed[-1]) if timed else 0
    charts = []
    for title, lines, label, lowest_top in METRICS:
        values = [s.get(key) for s in timed for key, _, _ in lines]
        numbers = [float(v) for v in values if isinstance(v, int | float)]
        top = max([*numbers, lowest_top]) if numbers else 0.0
        charts.append(
            Chart(
                title=title,
                top_label=label(top) if top else "",
                start_label=_clock(start),
                end_label=_clock(end),
                series=[
                    Series(name, css, _points(timed, key, start, end, top))
                    for key, name, css in lines
                ],
            )
        )
    return charts


def _time(sample: dict) -> float:
    return float(sample["time"])


def _clock(timestamp: float) -> str:
    if not timestamp:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _points(samples: list[dict], key: str, start: float, end: float, top: float) -> str:
    """SVG polyline points; samples without a value are left out."""
    if not top:
        return ""
    span = (end - start) or 1.0
    points = []
    for sample in samples:
        value = sample.get(key)
        if not isinstance(value, int | float):
            continue
        x = (_time(sample) - start) / span * WIDTH
        y = HEIGHT - min(float(value) / top, 1.0) * HEIGHT
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points) if len(points) > 1 else ""
