"""Event selectors as CloudTrail's API writes them (GetEventSelectors, PutEventSelectors), for
tests that build trails' selectors by hand."""

from __future__ import annotations


def field(name: str, **operators: list[str]) -> dict:
    """A field selector: `field("readOnly", Equals=["true"])`."""
    return {"Field": name, **operators}


def selector(*fields: dict, name: str = "s") -> dict:
    """An advanced event selector of these field selectors."""
    return {"Name": name, "FieldSelectors": list(fields)}


def management(*fields: dict, name: str = "management") -> dict:
    return selector(field("eventCategory", Equals=["Management"]), *fields, name=name)


def data(resource_type: str, *fields: dict, name: str = "data") -> dict:
    category = field("eventCategory", Equals=["Data"])
    return selector(category, field("resources.type", Equals=[resource_type]), *fields, name=name)


def network(source: str, *fields: dict, name: str = "network") -> dict:
    category = field("eventCategory", Equals=["NetworkActivity"])
    return selector(category, field("eventSource", Equals=[source]), *fields, name=name)


def advanced(*selectors: dict) -> dict:
    """A GetEventSelectors answer holding these advanced selectors."""
    return {"AdvancedEventSelectors": list(selectors)}
