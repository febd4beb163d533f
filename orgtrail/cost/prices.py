"""Prices with their source: the dated offline table shipped with the project.

Each price says where it was read (the AWS pricing page) and on which date, so every figure
`orgtrail cost` prints can name the price it used. The Price List API (price_list.py) replaces
the prices it gives; the table stays for the rest, for `--offline`, and when the API cannot
be reached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "prices.json"  # package data
# Each archive class: its storage price and its lifecycle transition price.
CLASS_PRICES = {
    "GLACIER_IR": ("s3-glacier-ir-storage", "s3-transition-glacier-ir"),
    "GLACIER": ("s3-glacier-storage", "s3-transition-glacier"),
    "DEEP_ARCHIVE": ("s3-deep-archive-storage", "s3-transition-deep-archive"),
}
# Per object in GLACIER and DEEP_ARCHIVE: 32 KB billed at the class, 8 KB in S3 Standard (S3
# User Guide, "Understanding and managing Amazon S3 storage classes", archival metadata).
OVERHEAD = {"GLACIER": (32 * 1024, 8 * 1024), "DEEP_ARCHIVE": (32 * 1024, 8 * 1024)}


@dataclass(frozen=True)
class Price:
    id: str
    usd: float
    per: float  # the quantity the price is for (100,000 events, 1 GB, 1,000 requests)
    unit: str
    source: str
    rule: str = ""

    def cost(self, quantity: float) -> float:
        return quantity / self.per * self.usd

    def text(self) -> str:
        per = f"{self.per:,.0f} " if self.per != 1 else ""
        return f"${dollars(self.usd)} per {per}{self.unit}"


def dollars(usd: float) -> str:
    """A price as the pricing pages write it: at least cents, fractions of a cent kept."""
    text = f"{usd:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


@dataclass(frozen=True)
class PriceTable:
    region: str
    date: str
    origin: str  # where the table came from, for every figure that uses it
    prices: dict[str, Price]

    def __getitem__(self, price_id: str) -> Price:
        return self.prices[price_id]


def offline_table(path: Path = TABLE) -> PriceTable:
    document = json.loads(path.read_text())
    prices = {
        price_id: Price(price_id, float(entry["usd"]), float(entry["per"]), entry["unit"],
                        entry["source"], entry.get("rule", ""))
        for price_id, entry in document["prices"].items()
    }  # fmt: skip
    origin = f"offline table of {document['date']} ({document['region']}, AWS pricing pages)"
    return PriceTable(document["region"], document["date"], origin, prices)
