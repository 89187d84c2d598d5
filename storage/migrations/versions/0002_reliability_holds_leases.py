"""reliability: held versions, revert versions, delivery lease owner

* ``versions.hold_status`` / ``hold_reason``: a version that looks broken (challenge page,
  sharp drop in tasks, another document kind) is stored but held from subscribers;
* the unique ``(series_id, content_hash)`` goes: a revert to an earlier text is a new version
  (``(series_id, seq)`` still makes concurrent ingests of one change collide);
* ``deliveries.lease_owner``: which sender run holds a lease, so leases can be renewed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_status", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("hold_reason", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_versions_hold_status"), ["hold_status"], unique=False)
        batch_op.drop_constraint("uq_versions_series_id_content_hash", type_="unique")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("lease_owner")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_versions_series_id_content_hash", ["series_id", "content_hash"]
        )
        batch_op.drop_index(batch_op.f("ix_versions_hold_status"))
        batch_op.drop_column("hold_reason")
        batch_op.drop_column("hold_status")
