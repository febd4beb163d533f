"""Analysis of the logs: the detections (Athena SQL, one per CIS monitoring item), the
CloudTrail table's columns for Athena and DuckDB, and `orgtrail query` over local files."""
