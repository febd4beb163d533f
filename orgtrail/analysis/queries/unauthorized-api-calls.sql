-- Unauthorized API calls
-- CIS AWS Foundations Benchmark v3.0, control 4.1. Athena (Trino) SQL over the org-trail CloudTrail table;
-- `python -m orgtrail query unauthorized-api-calls` runs the same file locally. Keep the selection in step with
-- the CloudWatch metric filter of the same name (components/cis_alarms.py).
SELECT
  eventid,
  eventtime,
  eventsource,
  eventname,
  awsregion,
  recipientaccountid,
  useridentity.type AS principaltype,
  useridentity.arn AS principalarn,
  sourceipaddress,
  errorcode
FROM cloudtrail_logs
WHERE (errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%')
  AND sourceipaddress <> 'delivery.logs.amazonaws.com'
  AND eventname <> 'HeadBucket'
ORDER BY eventtime
