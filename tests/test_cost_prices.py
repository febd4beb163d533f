"""Prices from the AWS Price List API (through the rewriting proxy: moto has no `pricing`),
the offline table for what it does not give, and every figure saying which it used."""

import json

from orgtrail.__main__ import main
from tests.support.cloudtrail_events import corpus, write_logs
from tests.support.contract import conforming
from tests.support.proxy import Answer, json_error
from tests.test_cutover import payments_trail, write_stack


def price_list(prices: dict[str, str]):
    """GetProducts answered as the Price List API does: one product per usage type asked for
    that `prices` names, its first tier's price per unit in USD (as text)."""

    def answer(call):
        filters = {f["Field"]: f["Value"] for f in call.json()["Filters"]}
        usd = prices.get(filters["usagetype"])
        products = []
        if usd is not None:
            products.append(
                json.dumps(
                    {
                        "product": {"attributes": {"usagetype": filters["usagetype"]}},
                        "terms": {
                            "OnDemand": {
                                "SKU.TERM": {
                                    "priceDimensions": {
                                        "SKU.TERM.B": {
                                            "beginRange": "50",
                                            "pricePerUnit": {"USD": "0.0000010000"},
                                        },
                                        "SKU.TERM.A": {
                                            "beginRange": "0",
                                            "pricePerUnit": {"USD": usd},
                                        },
                                    }
                                }
                            }
                        },
                    }
                )
            )
        body = json.dumps({"FormatVersion": "aws_v1", "PriceList": products}).encode()
        return Answer(200, [("Content-Type", "application/x-amz-json-1.1")], body)

    return answer


def run_cost(org, tmp_path, capsys) -> dict:
    path = write_stack(tmp_path, org, [payments_trail(org)])
    logs = tmp_path / "logs"
    write_logs(logs, corpus(benign=30).events)
    main(["cost", "--logs", str(logs), "--stack-config", str(path), "--json"])
    return conforming("cost", capsys.readouterr().out)


def test_the_price_list_prices_replace_the_tables_and_name_their_source(
    org, proxy, tmp_path, capsys
):
    # us-east-1's usage types come with the USE1- prefix or none: both are asked for.
    proxy.refuse(
        "GetProducts",
        price_list({"PaidEventsRecorded": "0.0000210000", "USE1-KMS-Requests": "0.0000040000"}),
    )
    document = run_cost(org, tmp_path, capsys)
    items = {item["id"]: item for item in document["items"]}
    copies = items["management-extra-copies"]["price"]
    assert copies["usd"] == 2.1 and copies["source"] == (
        "AWS Price List API: AWSCloudTrail PaidEventsRecorded, us-east-1"
    )
    assert items["kms-requests"]["price"]["usd"] == 0.04  # the first tier, per 10,000
    assert items["s3-data-reads"]["price"]["source"] == "https://aws.amazon.com/cloudtrail/pricing/"
    origin = document["prices"]["origin"]
    assert origin.startswith(
        "Price List API (us-east-1) for management-events-extra-copy, kms-requests; "
    )
    assert "offline table of 2026-12-01" in origin and "data-events" in origin


def test_an_unreachable_price_list_falls_back_to_the_table_and_says_so(
    org, proxy, tmp_path, capsys
):
    proxy.refuse("GetProducts", lambda call: json_error(400, "AccessDeniedException", "no pricing"))
    document = run_cost(org, tmp_path, capsys)
    assert document["prices"]["origin"].endswith(
        "the Price List API could not be read: AccessDeniedException: no pricing"
    )
    assert all(
        item["price"]["source"].startswith("https://aws.amazon.com/") for item in document["items"]
    )
