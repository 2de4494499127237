"""Small formatting helpers used as Jinja filters."""

from __future__ import annotations

from datetime import UTC, datetime

UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(value: int | float | None) -> str:
    """1536 -> '1.5 KiB'."""
    size = float(value or 0)
    for unit in UNITS:
        if abs(size) < 1024 or unit == UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} {UNITS[-1]}"  # pragma: no cover - loop always returns


def percent(part: float | None, whole: float | None = 1.0) -> str:
    """percent(0.25) -> '25.0 %'; percent(1, 4) -> '25.0 %'; '—' without a whole."""
    if not whole:
        return "—"
    return f"{100.0 * float(part or 0) / float(whole):.1f} %"


def duration(seconds: int | None) -> str:
    """90061 -> '1d 1h 1m'; 0 or None -> '—'."""
    seconds = int(seconds or 0)
    if seconds <= 0:
        return "—"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


def timestamp(value: int | float | datetime | None) -> str:
    """A Unix time or datetime as `2026-11-29 14:05 UTC`; '—' when missing."""
    if not value:
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value), UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
