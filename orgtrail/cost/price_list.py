"""Prices from the AWS Price List API (`pricing` GetProducts), for the stack's region.

Each price the estimate uses is looked up by its service code and usage type (the product
attribute `usagetype`: with the region's billing prefix, `EUW1-PaidEventsRecorded`, or none
in us-east-1, so both forms are asked for) and its first tier's on-demand price per unit
(the PriceList documents' `terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD`: AWS Price
List Service API reference, GetProducts). A price the API does not give, or an API that
cannot be reached, falls back to the offline table for that price, and the table's origin
says which prices came from where.
"""

from __future__ import annotations

import json
from dataclasses import replace

from orgtrail.cost.prices import Price, PriceTable
from orgtrail.cost.spend import BILLING_REGIONS
from orgtrail.ops.aws import AWS_ERRORS, error_text

# Price id -> (service code, usage type without its region prefix). The usage types are
# those on the bill (Cost Explorer, CUR) for the same items.
USAGE = {
    "management-events-extra-copy": ("AWSCloudTrail", "PaidEventsRecorded"),
    "data-events": ("AWSCloudTrail", "DataEventsRecorded"),
    "insights-events-analysed": ("AWSCloudTrail", "InsightsEvents"),
    "cloudwatch-logs-ingestion": ("AmazonCloudWatch", "DataProcessing-Bytes"),
    "s3-standard-storage": ("AmazonS3", "TimedStorage-ByteHrs"),
    "s3-put-requests": ("AmazonS3", "Requests-Tier1"),
    "kms-requests": ("awskms", "KMS-Requests"),
}
# The Price List API's endpoint per partition (its API reference: us-east-1, or
# cn-northwest-1 in China).
ENDPOINT = {"aws": "us-east-1", "aws-cn": "cn-northwest-1"}


def _prefixes(region: str) -> list[str]:
    codes = [code for code, name in BILLING_REGIONS.items() if name == region and code]
    return [f"{code}-" for code in codes] + ([""] if region == "us-east-1" else [])


def _unit_price(document: dict) -> float | None:
    """The first tier's USD price per unit of one PriceList product."""
    for term in (document.get("terms", {}).get("OnDemand") or {}).values():
        dimensions = sorted(
            term.get("priceDimensions", {}).values(),
            key=lambda d: float(d.get("beginRange", "0") or 0),
        )
        for dimension in dimensions:
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is not None:
                return float(usd)
    return None


def lookup(pricing, service: str, usage_type: str, region: str) -> float | None:
    for prefix in _prefixes(region):
        answer = pricing.get_products(
            ServiceCode=service,
            Filters=[
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
                {"Type": "TERM_MATCH", "Field": "usagetype", "Value": f"{prefix}{usage_type}"},
            ],
            MaxResults=10,
        )
        for text in answer.get("PriceList", []):
            usd = _unit_price(json.loads(text) if isinstance(text, str) else text)
            if usd is not None:
                return usd
    return None


def online_table(pricing, region: str, offline: PriceTable) -> PriceTable:
    """The offline table with every price the API gives replaced by the API's, and an origin
    naming what came from where. The API prices per unit (an event, a request, a GB, a
    GB-month); the table per its quantity (100,000 events, 1,000 requests, 1 GB)."""
    prices = dict(offline.prices)
    from_api = []
    try:
        for price_id, (service, usage_type) in USAGE.items():
            usd = lookup(pricing, service, usage_type, region)
            if usd is None:
                continue
            kept: Price = offline[price_id]
            prices[price_id] = replace(
                kept,
                usd=usd * kept.per,
                source=f"AWS Price List API: {service} {usage_type}, {region}",
            )
            from_api.append(price_id)
    except AWS_ERRORS as error:
        return replace(
            offline,
            origin=f"{offline.origin}; the Price List API could not be read: {error_text(error)}",
        )
    kept_offline = sorted(set(prices) - set(from_api))
    origin = f"Price List API ({region}) for {', '.join(from_api) or 'none'}"
    if kept_offline:
        origin += f"; {offline.origin} for {', '.join(kept_offline)}"
    return replace(offline, prices=prices, origin=origin)
