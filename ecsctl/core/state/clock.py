"""The simulation's clock as the state keeps it: UTC, to the second (``2026-01-01T00:00:00Z``)."""

from __future__ import annotations

from datetime import datetime, timezone

from ecsctl.errors import InputError

CLOCK_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_clock(text: str) -> datetime:
    """The time ``text`` names (the state's format, or any ISO time, read as UTC when it names
    no zone); an InputError for anything else.

    >>> parse_clock("2026-01-01T00:00:00Z").isoformat(), parse_clock("2026-01-01T01:00:00+01:00").isoformat()
    ('2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')
    """
    try:
        return datetime.strptime(text, CLOCK_FORMAT).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        try:
            value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"the state's clock {text!r} is not an ISO time") from None
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def format_clock(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime(CLOCK_FORMAT)


def is_clock(value: object) -> bool:
    """Whether ``value`` is a time the clock can hold (what ``parse_clock`` reads)."""
    if not isinstance(value, str):
        return False
    try:
        parse_clock(value)
    except InputError:
        return False
    return True


__all__ = ["CLOCK_FORMAT", "format_clock", "is_clock", "parse_clock"]
