-- AWS Config configuration changes
-- CIS AWS Foundations Benchmark v3.0, control 4.9. Athena (Trino) SQL over the org-trail CloudTrail table;
-- `python -m orgtrail query config-changes` runs the same file locally. Keep the selection in step with
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
WHERE eventsource = 'config.amazonaws.com'
  AND eventname IN ('StopConfigurationRecorder', 'DeleteDeliveryChannel', 'PutDeliveryChannel', 'PutConfigurationRecorder')
ORDER BY eventtime
