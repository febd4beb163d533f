"""Where the money goes, to look at: bars in the terminal, and a Markdown report that can go
into a pull request or a ticket (tables, the same bars, every source and assumption)."""

from __future__ import annotations

from orgtrail.cost.estimate import Estimate

BAR = 40  # characters of the largest item's bar


def bars(result: Estimate) -> list[tuple[str, str, float]]:
    """(item name, bar, USD) for each item, largest first; bars proportional to the cost."""
    items = sorted(result.items, key=lambda item: (-item.usd, item.id))
    largest = max((item.usd for item in items), default=0.0)
    return [
        (item.name, "█" * round(BAR * item.usd / largest) if largest else "", item.usd)
        for item in items
    ]


def markdown(result: Estimate) -> str:
    volume = result.volume
    lines = [
        "# org-trail: what a month costs",
        "",
        f"From {volume.total('events'):,} events in {volume.total('files'):,} log files over "
        f"{volume.days:.2f} days ({result.prices.origin}).",
        "",
        f"**${result.usd:,.2f} a month**; stopping the config's legacy trails saves "
        f"**${result.cutover_saving:,.2f} a month**.",
        "",
        "| item | per month | price | USD per month |",
        "|---|---:|---|---:|",
    ]
    for item in result.items:
        lines.append(
            f"| {item.name} | {item.quantity:,.2f} {item.price.unit} | "
            f"[{item.price.text()}]({item.price.source}) | {item.usd:,.2f} |"
        )
    lines += ["", "Where the money goes:", "", "```"]
    width = max((len(name) for name, _, _ in bars(result)), default=0)
    lines += [f"{name:<{width}}  {bar} ${usd:,.2f}" for name, bar, usd in bars(result)]
    lines += ["```", "", "| account | USD per month |", "|---|---:|"]
    by_account = {
        account: sum(item.account_usd(account) for item in result.items)
        for account in result.accounts()
    }
    for account, usd in sorted(by_account.items(), key=lambda pair: (-pair[1], pair[0])):
        lines.append(f"| {account} | {usd:,.2f} |")
    if result.not_measured:
        lines += ["", "Not measured (never priced as zero):", ""]
        lines += [f"- {line}" for line in result.not_measured]
    lines += ["", "Assumed:", ""] + [f"- {line}" for line in result.assumptions]
    return "\n".join(lines) + "\n"
