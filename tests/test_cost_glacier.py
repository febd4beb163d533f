"""`orgtrail cost --glacier` against moto: each legacy bucket's size and object count from
CloudWatch's S3 storage metrics (seeded through moto's own PutMetricData, beside the ones
moto derives from the buckets themselves), the share above
the transition minimum from a sampled listing, the saving priced by hand."""

import json
from datetime import UTC, datetime, timedelta

from orgtrail.__main__ import main
from orgtrail.cost.estimate import GIB
from tests.support.cloudtrail_events import corpus, write_logs
from tests.support.contract import conforming
from tests.support.html_report import read_page
from tests.test_cutover import data_trail, payments_trail, write_stack

KIB = 1024


def storage_metrics(org, account: str, region: str, bucket: str, size: float, objects: float):
    """S3's daily storage metrics of a bucket, as S3 reports them to CloudWatch."""
    cloudwatch = org.member(account, region).client("cloudwatch")
    at = datetime.now(UTC) - timedelta(days=1)
    cloudwatch.put_metric_data(
        Namespace="AWS/S3",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "BucketName", "Value": bucket},
                    {"Name": "StorageType", "Value": storage_type},
                ],
                "Timestamp": at,
                "Value": value,
            }
            for metric, storage_type, value in (
                ("BucketSizeBytes", "StandardStorage", size),
                ("NumberOfObjects", "AllStorageTypes", objects),
            )
        ],
    )


def test_each_legacy_bucket_is_measured_and_priced(org, tmp_path, capsys):
    s3 = org.member("payments", "eu-west-1").client("s3")
    for index, size in enumerate((64 * KIB, 256 * KIB, 512 * KIB, 1024 * KIB)):
        s3.put_object(Bucket="acme-payments-trail", Key=f"AWSLogs/file-{index}", Body=b"x" * size)
    storage_metrics(org, "payments", "eu-west-1", "acme-payments-trail", 100 * GIB, 400_000)
    path = write_stack(tmp_path, org, [payments_trail(org), data_trail(org)])
    logs = tmp_path / "logs"
    write_logs(logs, corpus(benign=50).events)
    argv = ["cost", "--logs", str(logs), "--stack-config", str(path), "--glacier", "--json"]
    reports = ["--markdown", str(tmp_path / "cost.md"), "--html", str(tmp_path / "cost.html")]
    assert main([*argv, *reports]) == 1  # the data bucket holds nothing under its prefix: said
    document = conforming("cost", capsys.readouterr().out)
    payments, data = document["glacier"]
    assert (payments["bucket"], payments["accountId"], payments["region"]) == (
        "acme-payments-trail",
        org.accounts["payments"],
        "eu-west-1",
    )
    # The oracle: the bucket's objects as S3 lists them (the seeded ones and the four above).
    sizes = [o["Size"] for o in s3.list_objects_v2(Bucket="acme-payments-trail")["Contents"]]
    moved = [size for size in sizes if size >= 128 * KIB]
    assert payments["sampled"] == len(sizes) >= 4
    assert payments["eligibleObjectsShare"] == len(moved) / len(sizes)
    assert payments["eligibleBytesShare"] == sum(moved) / sum(sizes)
    moved_gb = 100 * sum(moved) / sum(sizes)
    moved_objects = 400_000 * len(moved) / len(sizes)
    # The test stack's legacyArchive is GLACIER: each object also bills 32 KB there, 8 KB in
    # S3 Standard.
    assert payments["storageClass"] == "GLACIER"
    after = (moved_gb + moved_objects * 32 * KIB / GIB) * 0.0036 + (
        moved_objects * 8 * KIB / GIB
    ) * 0.023
    monthly = moved_gb * 0.023 - after
    assert payments["usdPerMonth"] == round(monthly, 4)
    assert payments["oneTimeUsd"] == round(moved_objects / 1000 * 0.03, 4)
    assert payments["breakEvenMonths"] == round(moved_objects / 1000 * 0.03 / monthly, 2)
    assert data["error"] == "the listing under the trail's prefix returned no object to sample"
    assert data["usdPerMonth"] is None  # never a saving of 0
    # Both reports carry each bucket and the archiving's saving beside the cutover's.
    page = read_page((tmp_path / "cost.html").read_text(encoding="utf-8"))
    rows = page.tables["glacier"]
    assert [row[0] for row in rows] == ["acme-payments-trail", "acme-data-audit"]
    assert rows[0][5] == f"${payments['usdPerMonth']:,.2f} (GLACIER)"
    assert rows[1][5] == f"not measured: {data['error']}"
    saving = page.tables["savings"][-1]
    assert saving[0] == "archiving the legacy buckets (1 of 2 not measured)"
    assert saving[2] == f"{payments['usdPerMonth']:,.2f}"
    markdown = (tmp_path / "cost.md").read_text()
    assert (
        f"| archiving the legacy buckets (1 of 2 not measured) | {saving[1]} | {saving[2]} |"
        in markdown
    )
    assert f"| acme-payments-trail | {org.accounts['payments']} |" in markdown
    main(argv[:-1])
    lines = capsys.readouterr().out.rstrip().splitlines()
    saved = f"${payments['usdPerMonth']:,.2f} a month"
    assert f"archiving saves {saved} (1 of 2 buckets not measured)" in lines
    assert lines[-1].endswith(f"; archiving the legacy buckets (1 of 2 not measured) saves {saved}")


def test_deep_archive_counts_each_objects_overhead(org, tmp_path, capsys):
    s3 = org.member("payments", "eu-west-1").client("s3")
    s3.put_object(Bucket="acme-payments-trail", Key="AWSLogs/one", Body=b"x" * (200 * KIB))
    storage_metrics(org, "payments", "eu-west-1", "acme-payments-trail", 10 * GIB, 1_000_000)
    path = write_stack(tmp_path, org, [payments_trail(org)])
    text = path.read_text().replace(
        "config:\n", "config:\n  org-trail:legacyArchive:\n    storageClass: DEEP_ARCHIVE\n", 1
    )
    path.write_text(text)
    logs = tmp_path / "logs"
    write_logs(logs, corpus(benign=50).events)
    argv = ["cost", "--logs", str(logs), "--stack-config", str(path), "--glacier", "--json"]
    main(argv)
    (saving,) = json.loads(capsys.readouterr().out)["glacier"]
    sizes = [o["Size"] for o in s3.list_objects_v2(Bucket="acme-payments-trail")["Contents"]]
    moved = [size for size in sizes if size >= 128 * KIB]
    moved_gb = 10 * sum(moved) / sum(sizes)
    objects = 1_000_000 * len(moved) / len(sizes)
    overhead_gb = objects * 32 * KIB / GIB
    standard_overhead_gb = objects * 8 * KIB / GIB
    expected = moved_gb * 0.023 - (
        (moved_gb + overhead_gb) * 0.00099 + standard_overhead_gb * 0.023
    )
    assert saving["storageClass"] == "DEEP_ARCHIVE"
    assert saving["usdPerMonth"] == round(expected, 4)
    assert saving["oneTimeUsd"] == round(objects / 1000 * 0.05, 4)


def test_a_bucket_without_storage_metrics_is_not_measured(org, tmp_path, capsys, proxy):
    from tests.support.proxy import json_error

    proxy.refuse(
        "GetMetricStatistics",
        lambda call: json_error(403, "AccessDenied", "not authorized to read metrics"),
    )
    path = write_stack(tmp_path, org, [payments_trail(org)])
    logs = tmp_path / "logs"
    write_logs(logs, corpus(benign=20).events)
    argv = ["cost", "--logs", str(logs), "--stack-config", str(path), "--glacier", "--json"]
    assert main(argv) == 1
    (saving,) = json.loads(capsys.readouterr().out)["glacier"]
    assert saving["error"].startswith("AccessDenied") and saving["usdPerMonth"] is None
    main(argv[:-1])
    lines = capsys.readouterr().out.rstrip().splitlines()
    # Nothing measured is said so, never a saving of $0.00.
    assert "archiving saves not measured: no bucket could be read" in lines
    assert lines[-1].endswith(
        "; archiving the legacy buckets (1 of 1 not measured) saves not measured"
    )
    clauses = [c for line in lines for c in line.split(";") if "archiving" in c]
    assert clauses and not any("$0.00" in clause for clause in clauses)
