"""Tables of data for people: nothing cut off, nothing split, nothing read as markup.

Rich cuts a cell that does not fit with an ellipsis, folds a word longer than its column
across lines and reads `[...]` as style markup; an account ID, ARN or trail name must
survive all three, in a terminal of any width and piped (where Rich assumes 80 columns).
So every cell is Text, and a table is drawn only when each column can be as wide as the
longest word in it: prose wraps between words, an identifier is never broken. When the
columns cannot fit, the rows are printed one field per line instead (as psql's expanded
display does), each value whole.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

# Every command's --json document carries it; it changes only when a field is removed or
# changes meaning (adding one does not), and schema/<command>.schema.json describes it.
SCHEMA_VERSION = 1


def document(**fields: object) -> str:
    """A command's --json document: schemaVersion first, then its fields. A value JSON has
    no type for (a DuckDB timestamp in a detection's row) is written as its text."""
    return json.dumps({"schemaVersion": SCHEMA_VERSION, **fields}, indent=2, default=str)


class DataTable(Table):
    """A table whose words are never split: drawn with each column at least its longest
    word wide when that fits the width it is given, otherwise as one block per row."""

    def __init__(self, title: str, columns: Sequence[str]):
        super().__init__(title=title, title_justify="left")
        for column in columns:
            self.add_column(column, overflow="fold")
        self.cells: list[list[Text]] = []

    def add_texts(self, cells: Sequence[Text]) -> None:
        self.cells.append(list(cells))
        self.add_row(*cells)

    def _widths(self, available: int) -> list[int] | None:
        """Each column's width: its longest word at least, the room left shared out towards
        each column's longest line; None when even the longest words do not fit."""
        texts = [
            [Text(str(c.header)), *(row[i] for row in self.cells)]
            for i, c in enumerate(self.columns)
        ]
        shortest = [
            max([c.min_width or 0, *(len(word) for text in column for word in text.plain.split())])
            for c, column in zip(self.columns, texts, strict=True)
        ]
        longest = [
            max([low, *(len(line) for text in column for line in text.plain.splitlines())])
            for low, column in zip(shortest, texts, strict=True)
        ]
        # Rich draws each column with a space either side and a rule between and around them.
        room = available - 3 * len(self.columns) - 1
        if sum(shortest) > room:
            return None
        widths, spare = list(shortest), room - sum(shortest)
        wanting = sum(high - low for low, high in zip(shortest, longest, strict=True))
        for index, (low, high) in enumerate(zip(shortest, longest, strict=True)):
            if wanting:
                widths[index] += min(high - low, spare * (high - low) // wanting)
        return widths

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self._widths(options.max_width)
        if widths is not None:
            for column, width in zip(self.columns, widths, strict=True):
                column.width = width
            yield from super().__rich_console__(console, options)
            return
        if self.title:
            yield Text(str(self.title), style="bold")
        yield from self._records(options.max_width)

    def _records(self, width: int) -> RenderResult:
        """Each row as `name  value` lines; a value wraps between words only, and a word too
        long for the value's column gets a line of its own (folded only when it is longer
        than the whole width)."""
        labels = [str(c.header) for c in self.columns]
        indent = 4 + max(len(name) for name in labels)
        for row in self.cells:
            yield Text("")
            for name, cell in zip(labels, row, strict=True):
                lines = [
                    line
                    for text in cell.plain.splitlines()
                    for line in _wrapped(text, width - indent)
                ]
                for index, line in enumerate(lines):
                    head = f"  {name:<{indent - 4}}  " if index == 0 else " " * indent
                    if len(line) > width - indent:
                        # One word longer than the value's column: on a line of its own,
                        # from the margin if it must; folded only when longer than the
                        # whole width (cropping it would lose characters).
                        if index == 0:
                            yield Text(head.rstrip())
                        if len(line) > width:
                            yield Text(line, overflow="fold")
                            continue
                        head = "  " if len(line) <= width - 2 else ""
                    if line == cell.plain:  # whole on one line: keep its colour
                        yield Text.assemble(head, cell, no_wrap=True, overflow="ignore")
                    else:
                        yield Text(head + line, no_wrap=True, overflow="ignore")


def _wrapped(text: str, width: int) -> list[str]:
    """Greedy wrapping between words; a word is never broken."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def data_table(title: str, columns: Sequence[str]) -> DataTable:
    return DataTable(title, columns)


def add_row(table: DataTable, *cells: str | Text) -> None:
    """A row of data; a cell already styled by us (a PASS, a result) may be Text."""
    table.add_texts([cell if isinstance(cell, Text) else Text(cell) for cell in cells])


def refuse(args: argparse.Namespace, message: str, code: str = "UsageError") -> int:
    """A run that cannot go on (exit 2): the message on stderr for people and, with --json,
    `{"error": {"code", "message"}}` on stdout, so a script's JSON stays JSON."""
    Console(stderr=True).print(Text.assemble(("error:", "red"), f" {message}"), soft_wrap=True)
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}))
    return 2
