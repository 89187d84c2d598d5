"""Storage errors: named so the CLI can print them as one line and flows can decide retries."""

from __future__ import annotations

from parsers.errors import RadarError


class StorageError(RadarError):
    """Something is wrong with stored data or the request made of it."""


class SeriesNotFound(StorageError):
    """No series matches the key (or title) the user gave."""


class VersionNotFound(StorageError):
    """The series exists but has no version with that number (or id)."""
