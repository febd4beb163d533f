-- Usage of the root account
-- CIS AWS Foundations Benchmark v3.0, control 4.3. Athena (Trino) SQL over the org-trail CloudTrail table;
-- `python -m orgtrail query root-account-usage` runs the same file locally. Keep the selection in step with
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
WHERE useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND eventtype <> 'AwsServiceEvent'
ORDER BY eventtime
