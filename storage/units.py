"""Unit alias keys for joins (区发改委 = 区发展改革委 = 区发展和改革委员会).

The alias table belongs to ``parsers.units_alias`` (the diff uses it too); storage and alerts
import the key function from here so ``task_units.unit_key`` and ``change_units.unit_key``
are always written and queried with the one function.
"""

from __future__ import annotations

from parsers.units_alias import unit_key

__all__ = ["unit_key"]
