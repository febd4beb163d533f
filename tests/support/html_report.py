"""The HTML report read back as a reader's browser sees it: each table (by its class) as rows
of cell texts, each bar's width, and the page checked to be well formed (every element
closed, nothing but the page's own text and links)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field


@dataclass
class Page:
    tables: dict[str, list[list[str]]] = field(default_factory=dict)  # class -> body rows
    headers: dict[str, list[str]] = field(default_factory=dict)
    widths: dict[str, list[float]] = field(default_factory=dict)  # chart class -> bar widths
    links: list[str] = field(default_factory=list)
    text: str = ""


def read_page(document: str) -> Page:
    """Parse the page as XML (so an unclosed or stray tag fails here) and read it back."""
    assert document.startswith("<!DOCTYPE html>\n")
    root = ElementTree.fromstring(document.removeprefix("<!DOCTYPE html>\n"))
    assert not root.findall(".//script") and not root.findall(".//link")
    assert not [e for e in root.iter() if e.get("src")], "the page loads nothing"
    page = Page(links=[a.get("href") for a in root.iter("a")], text="".join(root.itertext()))
    for table in root.iter("table"):
        name = table.get("class") or ""
        page.headers[name] = ["".join(th.itertext()) for th in table.findall("./thead/tr/th")]
        page.tables[name] = [
            ["".join(cell.itertext()) for cell in row] for row in table.findall("./tbody/tr")
        ]
        page.widths[name] = [
            float(re.fullmatch(r"width: ([0-9.]+)%", bar.get("style")).group(1))
            for bar in table.iter("span")
            if bar.get("class") == "bar"
        ]
    return page
