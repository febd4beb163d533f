"""The detections: one Athena SQL file per CIS monitoring item in queries/.

Kept free of heavy imports: the Pulumi program reads it to create one Athena
named query per file, the local engine to run them.
"""

from __future__ import annotations

from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"


def detections(directory: Path = QUERIES_DIR) -> dict[str, Path]:
    return {path.stem: path for path in sorted(directory.glob("*.sql"))}


def description(path: Path) -> str:
    """The first comment line of the file: what the detection finds."""
    return path.read_text().splitlines()[0].removeprefix("--").strip()
