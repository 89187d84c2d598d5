"""Paths of the seed fixtures (copied from the shared design folder so a clone has them)."""

from __future__ import annotations

from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"
STRUCTURE = Path(__file__).resolve().parent.parent / "fixtures" / "structure"

NAMES = {
    "000": "000_569c03692071d7e0",
    "001": "001_d2f5901a87c294b7",
    "002": "002_152408040e809265",
    "003": "003_465ebb8863fa7a9b",
    "004": "004_2276e3ffef9e3d8c",
    "002_autonum": "002_152408040e809265_autonum",
    "002_v2": "002_152408040e809265_v2",
}


def seed(key: str, ext: str) -> Path:
    return SEEDS / f"{NAMES[key]}.{ext}"


def formats(key: str) -> list[str]:
    return [ext for ext in ("txt", "docx", "pdf") if seed(key, ext).exists()]
