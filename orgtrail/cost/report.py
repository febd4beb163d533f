"""Where the money goes, to look at: bars in the terminal, and a Markdown or HTML report that
can go into a pull request or a ticket (tables, the same bars, every source and assumption).

One `Report` feeds all three, so the terminal, the Markdown and the HTML show the same figures:
the month's items and their groups, what the cutover and the archiving of the legacy buckets
save (modelled from the files read, and measured when --spend and --glacier were asked), by
account, what was not measured and what was assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from orgtrail.cost.estimate import GIB, GROUPS, Estimate
from orgtrail.cost.glacier import BucketSaving

BAR = 40  # characters of the largest bar
GLACIER_SOURCE = "CloudWatch S3 storage metrics and a sampled listing (--glacier)"
SPEND_SOURCE = "Cost Explorer, the last full months (--spend)"


@dataclass(frozen=True)
class Bar:
    label: str
    usd: float
    share: float  # of the largest bar: 0 to 1

    def text(self) -> str:
        return "█" * round(BAR * self.share)


def bars(values: list[tuple[str, float]]) -> list[Bar]:
    """A bar per value, largest first, each its share of the largest."""
    ordered = sorted(values, key=lambda pair: (-pair[1], pair[0]))
    largest = max((usd for _, usd in ordered), default=0.0)
    return [Bar(label, usd, usd / largest if largest > 0 else 0.0) for label, usd in ordered]


@dataclass(frozen=True)
class Saving:
    what: str
    usd: float | None  # a month; None: nothing of it could be measured
    source: str

    def text(self, currency: str = "") -> str:
        """The figure as people read it: never 0.00 for what was not measured."""
        return "not measured" if self.usd is None else f"{currency}{_usd(self.usd)}"


@dataclass
class Report:
    estimate: Estimate
    glacier: list[BucketSaving] | None = None  # with --glacier
    trail_savings: dict[tuple[str, str, str], float] | None = None  # with --spend, measured

    def item_bars(self) -> list[Bar]:
        return bars([(item.name, item.usd) for item in self.estimate.items])

    def savings(self) -> list[Saving]:
        """What the cutover and the archiving save a month, each with where it comes from."""
        found = [
            Saving(
                "stopping the legacy trails (modelled)",
                self.estimate.cutover_saving,
                "the extra copies of management events in the files read",
            )
        ]
        if self.trail_savings is not None:
            found.append(
                Saving(
                    "stopping the legacy trails (measured)",
                    sum(self.trail_savings.values()),
                    SPEND_SOURCE,
                )
            )
        if self.glacier is not None:
            unread = sum(1 for saving in self.glacier if saving.error)
            measured = [s.monthly_usd for s in self.glacier if s.monthly_usd is not None]
            found.append(
                Saving(
                    "archiving the legacy buckets"
                    + (f" ({unread} of {len(self.glacier)} not measured)" if unread else ""),
                    sum(measured) if measured else None,
                    GLACIER_SOURCE,
                )
            )
        return found

    def saving_bars(self) -> list[Bar]:
        return bars([(s.what, s.usd) for s in self.savings() if s.usd is not None])

    def by_account(self) -> list[tuple[str, float]]:
        """Each account's month, the dearest first."""
        totals = self.estimate.account_totals()
        return sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))

    def headline(self) -> str:
        result = self.estimate
        return (
            f"From {result.volume.total('events'):,} events in {result.volume.total('files'):,} "
            f"log files over {result.volume.days:.2f} days ({result.prices.origin})."
        )


def _usd(usd: float) -> str:
    return f"{usd:,.2f}"


def glacier_cells(saving: BucketSaving) -> tuple[str, ...]:
    """A legacy bucket's row: bucket, account, GB, objects, to move, saves, one-time, even in."""
    if saving.error:
        return (saving.bucket, saving.account, "-", "-", "-", f"not measured: {saving.error}",
                "-", "-")  # fmt: skip
    months = (
        "never" if saving.break_even_months is None else f"{saving.break_even_months:,.1f} months"
    )
    return (
        saving.bucket,
        saving.account,
        f"{(saving.standard_bytes or 0) / GIB:,.2f}",
        f"{saving.objects or 0:,.0f}",
        f"{saving.eligible_bytes_share or 0:.0%} of bytes",
        f"${_usd(saving.monthly_usd or 0)} ({saving.storage_class})",
        f"${_usd(saving.one_time_usd or 0)}",
        months,
    )


GLACIER_COLUMNS = (
    "bucket", "account", "GB", "objects", "to move", "saves a month", "one-time", "even in",
)  # fmt: skip


# --- Markdown ------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text in a Markdown table cell: a pipe would end the cell, a newline the row."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: int = 1) -> list:
    """A table whose last `right` columns are figures (right-aligned)."""
    align = ["---"] * (len(header) - right) + ["---:"] * right
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _chart(chart: list[Bar]) -> list[str]:
    width = max((len(bar.label) for bar in chart), default=0)
    return ["```", *(f"{b.label:<{width}}  {b.text()} ${_usd(b.usd)}" for b in chart), "```"]


def markdown(report: Report) -> str:
    result = report.estimate
    lines = [
        "# org-trail: what a month costs",
        "",
        report.headline(),
        "",
        f"**${_usd(result.usd)} a month**; stopping the config's legacy trails saves "
        f"**${_usd(result.cutover_saving)} a month**.",
        "",
        *_markdown_table(
            ("item", "per month", "price", "USD per month"),
            [
                (
                    item.name,
                    f"{item.quantity:,.2f} {item.price.unit}",
                    f"[{item.price.text()}]({item.price.source})",
                    _usd(item.usd),
                )
                for item in result.items
            ],
        ),
        "",
        *_markdown_table(
            ("group", "USD per month"),
            [(GROUPS[group], _usd(usd)) for group, usd in result.groups().items()],
        ),
        "",
        "Where the money goes:",
        "",
        *_chart(report.item_bars()),
        "",
        "What the cutover and the archiving save:",
        "",
        *_chart(report.saving_bars()),
        "",
        *_markdown_table(
            ("saving", "source", "USD per month"),
            [(s.what, s.source, s.text()) for s in report.savings()],
        ),
        "",
        *_markdown_table(
            ("account", "USD per month"),
            [(account, _usd(usd)) for account, usd in report.by_account()],
        ),
    ]
    if report.trail_savings is not None:
        lines += ["", f"Stopping each legacy trail saves ({SPEND_SOURCE}):", ""]
        lines += _markdown_table(
            ("account", "region", "trail", "USD per month"),
            [(*key, _usd(usd)) for key, usd in report.trail_savings.items()],
        )
    if report.glacier is not None:
        lines += ["", f"Archiving the legacy buckets ({GLACIER_SOURCE}):", ""]
        lines += _markdown_table(
            GLACIER_COLUMNS, [glacier_cells(s) for s in report.glacier], right=0
        )
    if result.not_measured:
        lines += ["", "Not measured (never priced as zero):", ""]
        lines += [f"- {line}" for line in result.not_measured]
    lines += ["", "Assumed:", ""] + [f"- {line}" for line in result.assumptions]
    return "\n".join(lines) + "\n"


# --- HTML ----------------------------------------------------------------------------------

# One self-contained page: no script, no external style or font, so it opens from a ticket's
# attachment and prints as it looks. Every text is escaped.
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #111; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
td.usd, th.usd { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.chart { width: 40%; }
.bar { display: block; height: 0.9em; background: #3b6ea8; }
.saving .bar { background: #3a8a4f; }
.total { font-size: 1.25em; }
"""


def _html_table(
    header: tuple[str, ...], rows: list[tuple[str, ...]], right: int = 1, css: str = ""
) -> str:
    def cells(tag: str, values: tuple[str, ...]) -> str:
        first = len(values) - right
        usd = ' class="usd"'
        return "".join(
            f"<{tag}{usd if index >= first else ''}>{escape(value)}</{tag}>"
            for index, value in enumerate(values)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    klass = f' class="{css}"' if css else ""
    return (
        f"<table{klass}><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"
    )


def _html_chart(chart: list[Bar], css: str) -> str:
    rows = "".join(
        f"<tr><td>{escape(bar.label)}</td>"
        f'<td class="chart"><span class="bar" style="width: {bar.share * 100:.1f}%"></span></td>'
        f'<td class="usd">${_usd(bar.usd)}</td></tr>'
        for bar in chart
    )
    return f'<table class="{css}"><tbody>{rows}</tbody></table>'


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def html(report: Report) -> str:
    result = report.estimate
    items = "".join(
        f"<tr><td>{escape(item.name)}</td>"
        f'<td class="usd">{item.quantity:,.2f}</td><td>{escape(item.price.unit)}</td>'
        f'<td><a href="{escape(item.price.source)}">{escape(item.price.text())}</a></td>'
        f'<td class="usd">{_usd(item.usd)}</td></tr>'
        for item in result.items
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8" />',
        "<title>org-trail: what a month costs</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>org-trail: what a month costs</h1>",
        f"<p>{escape(report.headline())}</p>",
        f'<p class="total"><strong>${_usd(result.usd)} a month</strong>; stopping the '
        f"config's legacy trails saves <strong>${_usd(result.cutover_saving)} a month"
        "</strong>.</p>",
        "<h2>Items</h2>",
        '<table class="items"><thead><tr><th>item</th><th class="usd">per month</th>'
        '<th>unit</th><th>price</th><th class="usd">USD per month</th></tr></thead>'
        f"<tbody>{items}</tbody></table>",
        _html_table(
            ("group", "USD per month"),
            [(GROUPS[group], _usd(usd)) for group, usd in result.groups().items()],
            css="groups",
        ),
        "<h2>Where the money goes</h2>",
        _html_chart(report.item_bars(), "spend"),
        "<h2>What the cutover and the archiving save</h2>",
        _html_chart(report.saving_bars(), "saving"),
        _html_table(
            ("saving", "source", "USD per month"),
            [(s.what, s.source, s.text()) for s in report.savings()],
            css="savings",
        ),
        "<h2>By account</h2>",
        _html_table(
            ("account", "USD per month"),
            [(account, _usd(usd)) for account, usd in report.by_account()],
            css="accounts",
        ),
    ]
    if report.trail_savings is not None:
        parts += [
            f"<h2>Stopping each legacy trail saves</h2><p>{escape(SPEND_SOURCE)}</p>",
            _html_table(
                ("account", "region", "trail", "USD per month"),
                [(*key, _usd(usd)) for key, usd in report.trail_savings.items()],
                css="trails",
            ),
        ]
    if report.glacier is not None:
        parts += [
            f"<h2>Archiving the legacy buckets</h2><p>{escape(GLACIER_SOURCE)}</p>",
            _html_table(
                GLACIER_COLUMNS, [glacier_cells(s) for s in report.glacier], right=0, css="glacier"
            ),
        ]
    if result.not_measured:
        parts += ["<h2>Not measured (never priced as zero)</h2>", _list(result.not_measured)]
    parts += ["<h2>Assumed</h2>", _list(result.assumptions), "</body></html>"]
    return "\n".join(parts) + "\n"
