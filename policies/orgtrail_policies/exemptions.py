"""Per-policy exemptions: a resource name or URN glob, and a reason that is always shown.

Configured like any CrossGuard policy config, for example:

    {"s3-no-public-bucket": {"exemptions": [
        {"resource": "marketing-site*", "reason": "public website, approved SEC-123"}]}}

An exempted resource is reported as "not applicable" by that policy, and
the advisory policy `exemptions-applied` lists every exemption used, with its
reason, so it shows among the diagnostics of every preview and update. An
entry without a reason exempts nothing, and the violation says so.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyConfigSchema

SCHEMA = PolicyConfigSchema(
    properties={
        "exemptions": {
            "type": "array",
            "description": "Resources this policy does not apply to, each with the reason why.",
            "items": {
                "type": "object",
                "properties": {
                    "resource": {
                        "type": "string",
                        "minLength": 1,
                        "description": "resource name or URN glob",
                    },
                    "reason": {
                        "type": "string",
                        "minLength": 1,
                        "description": "shown wherever the exemption applies",
                    },
                },
                "required": ["resource", "reason"],
            },
        }
    }
)


@dataclass(frozen=True)
class Exemption:
    resource: str
    reason: str

    def matches(self, name: str, urn: str) -> bool:
        return fnmatch.fnmatchcase(name, self.resource) or fnmatch.fnmatchcase(urn, self.resource)

    @property
    def valid(self) -> bool:
        return bool(self.reason.strip())


class Exemptions:
    def __init__(self, config: Mapping[str, Any] | None):
        entries = (config or {}).get("exemptions") or []
        self.entries = [
            Exemption(str(entry.get("resource") or ""), str(entry.get("reason") or ""))
            for entry in entries
            if isinstance(entry, Mapping) and entry.get("resource")
        ]

    def find(self, name: str, urn: str) -> Exemption | None:
        """The first valid exemption matching the resource."""
        return next((e for e in self.entries if e.valid and e.matches(name, urn)), None)

    def unreasoned(self, name: str, urn: str) -> Exemption | None:
        return next((e for e in self.entries if not e.valid and e.matches(name, urn)), None)

    def note_for(self, name: str, urn: str) -> str:
        """A sentence to add to a violation when a reasonless exemption would have matched."""
        entry = self.unreasoned(name, urn)
        if entry is None:
            return ""
        return f" (exemption {entry.resource!r} matches but has no reason, so it does not apply)"


def describe(policy: str, exemption: Exemption) -> str:
    return f"exempted from {policy} by {exemption.resource!r}: {exemption.reason}"


@dataclass(frozen=True)
class Applied:
    policy: str
    urn: str
    exemption: Exemption


class Ledger:
    """Exemptions used during one preview or update, for `exemptions-applied` to report.

    The engine runs one pack process per operation and calls Analyze for every
    resource before AnalyzeStack, whose policies run in order: a report
    policy placed last sees every exemption of the operation.
    """

    def __init__(self):
        self.applied: list[Applied] = []

    def record(self, policy: str, urn: str, exemption: Exemption) -> None:
        self.applied.append(Applied(policy, urn, exemption))

    def drain(self) -> list[Applied]:
        applied, self.applied = self.applied, []
        return applied


LEDGER = Ledger()
