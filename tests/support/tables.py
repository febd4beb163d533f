"""Reading back what rich printed: a table's rows as lists of cells."""


def table_rows(text: str) -> list[list[str]]:
    """Every row of a printed table (its header first), each a list of its cells' text."""
    lines = (line.replace("┃", "│") for line in text.splitlines())  # the header's are heavy
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines]
    return [row for row in rows if len(row) > 1]
