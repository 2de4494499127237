"""Usage charts from rrddata, drawn as SVG on the server."""

from app.services.guests.charts import HEIGHT, WIDTH, build_charts
from tests.guests.conftest import url

T0 = 1_795_900_000
# What PVE's /nodes/{node}/qemu/{vmid}/rrddata answers (a sample without values: guest off).
SAMPLES = [
    {"time": T0 + 60 * i, "cpu": 0.1 * i, "maxcpu": 2, "mem": 2**29 * i, "maxmem": 2**32,
     "netin": 1000.0 * i, "netout": 500.0 * i, "diskread": 0, "diskwrite": 4096.0 * i}
    for i in range(1, 6)
] + [{"time": T0 + 360}]  # fmt: skip


def chart(title: str):
    return next(c for c in build_charts(SAMPLES) if c.title == title)


def points(series) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in series.points.split()]


def test_cpu_line_spans_the_chart():
    cpu = chart("CPU")
    line = points(cpu.series[0])
    assert len(line) == 5  # the sample without a value is left out
    assert line[0][0] == 0.0 and line[-1] == (WIDTH * 240 / 300, 0.0)  # the top is the maximum
    assert line[0][1] == HEIGHT - HEIGHT * 0.1 / 0.5
    assert cpu.top_label == "50 %"
    assert cpu.start_label.endswith("UTC") and cpu.start_label != cpu.end_label


def test_two_series_share_a_scale():
    memory = chart("Memory")
    used, total = memory.series
    assert (used.label, total.label) == ("used", "total")
    assert points(total)[0][1] == 0.0  # maxmem is the largest value
    assert memory.top_label == "4.0 GiB"
    assert chart("Network").top_label == "4.9 KiB/s"


def test_no_samples_means_no_lines():
    assert all(c.empty for c in build_charts([{}]))
    assert all(c.empty for c in build_charts([]))


def test_page_draws_an_svg_per_metric_or_says_there_is_no_data(guests, admin_client):
    page = admin_client.get(url("lxc", 201)).data.decode()
    # fakepve answers rrddata with an empty sample: the page says so instead of drawing nothing.
    assert page.count("No data for this period yet.") == 4
