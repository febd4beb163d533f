-- Management console authentication failures
-- CIS AWS Foundations Benchmark v3.0, control 4.6. Athena (Trino) SQL over the org-trail CloudTrail table;
-- `python -m orgtrail query console-auth-failures` runs the same file locally. Keep the selection in step with
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
WHERE eventname = 'ConsoleLogin'
  AND errormessage = 'Failed authentication'
ORDER BY eventtime
