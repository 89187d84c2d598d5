"""The common task/target schema (``radar.document/1``), as pydantic models.

Field names are a contract (see DESIGN.md): other parts and outside checks read the JSON.
More fields may be added; none may be renamed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "radar.document/1"
#: Bumped whenever parsing output may change for the same bytes; stored with every version
#: so old parses can be recognised and re-made.
PARSER_VERSION = "2"

Comparator = Literal[">=", ">", "=", "<=", "<"]
UnitRole = Literal["responsible", "lead", "support"]
Kind = Literal["notice", "plan", "reply", "news", "other"]


def number(value: Decimal | int | float | None) -> int | float | None:
    """JSON-friendly number: ``Decimal('1500')`` -> 1500, ``Decimal('1.5')`` -> 1.5."""
    if value is None:
        return None
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if d == d.to_integral_value():
        return int(d)
    return float(d)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Target(_Model):
    """One quantified goal: "到2025年…产业规模达到1500亿元" -> 1500 亿元 2025 >=."""

    text: str
    metric: str | None = None
    value: int | float | None = None
    value_max: int | float | None = None
    unit: str | None = None
    year: int | None = None
    comparator: Comparator | None = None


class Unit(_Model):
    """A responsible/lead/support unit, with its name exactly as written (width-normalized)."""

    name: str
    role: UnitRole = "responsible"


class Task(_Model):
    """A numbered leaf item of the body that states work."""

    id: str
    number: str | None = None
    path: list[str] = Field(default_factory=list)
    title: str
    text: str
    units: list[Unit] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)


class OutlineNode(_Model):
    number: str | None = None
    title: str
    children: list[OutlineNode] = Field(default_factory=list)


class Proposal(_Model):
    """The proposal/suggestion a reply answers: 第343号 -> "343" (leading zeros kept)."""

    number: str | None = None
    proposer: str | None = None
    meeting: str | None = None
    # Addition: every proposer of a joint proposal, as written (``proposer`` joins them
    # with 、 for the contract's single string).
    proposers: list[str] = Field(default_factory=list)


class Attachment(_Model):
    """A link to an attached file found on an HTML article page."""

    url: str
    name: str | None = None
    ext: str | None = None


class ParsedDocument(_Model):
    schema_id: str = Field(default=SCHEMA_ID, alias="schema")
    title: str | None = None
    doc_number: str | None = None
    issuers: list[str] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    date: str | None = None
    published: str | None = None
    kind: Kind = "other"
    proposal: Proposal | None = None
    goals: list[Target] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    outline: list[OutlineNode] = Field(default_factory=list)
    # Additions beyond the contract (allowed: "more may be added").
    index_no: str | None = None
    #: Units that handle a reply's proposal: 承办/主办 -> lead; 会办/协办/经商 -> support (in
    #: a 会办意见 the addressee leads and the signer supports). Empty for other documents.
    units: list[Unit] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    cites: list[str] = Field(default_factory=list)
    source_format: str | None = None
    parser_version: str = PARSER_VERSION

    def to_json_dict(self) -> dict[str, Any]:
        """The contract JSON object (``schema`` key, nulls kept)."""
        return self.model_dump(by_alias=True, mode="json")

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> ParsedDocument:
        return cls.model_validate(data)
