"""Tables of data for people: nothing cut off, nothing read as markup.

Rich cuts a cell that does not fit with an ellipsis and reads `[...]` as style markup;
an account ID, ARN or trail name must survive both. Every column here folds (a value
too long for its column continues on the next line, whole) and every cell is Text.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

# Every command's --json document carries it; it changes only when a field is removed or
# changes meaning (adding one does not), and schema/<command>.schema.json describes it.
SCHEMA_VERSION = 1


def document(**fields: object) -> str:
    """A command's --json document: schemaVersion first, then its fields. A value JSON has
    no type for (a DuckDB timestamp in a detection's row) is written as its text."""
    return json.dumps({"schemaVersion": SCHEMA_VERSION, **fields}, indent=2, default=str)


def data_table(title: str, columns: Sequence[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def add_row(table: Table, *cells: str | Text) -> None:
    """A row of data; a cell already styled by us (a PASS, a result) may be Text."""
    table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in cells))


def refuse(args: argparse.Namespace, message: str, code: str = "UsageError") -> int:
    """A run that cannot go on (exit 2): the message on stderr for people and, with --json,
    `{"error": {"code", "message"}}` on stdout, so a script's JSON stays JSON."""
    Console(stderr=True).print(Text.assemble(("error:", "red"), f" {message}"), soft_wrap=True)
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}))
    return 2
