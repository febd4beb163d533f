-- Management console sign-in without MFA
-- CIS AWS Foundations Benchmark v3.0, control 4.2. Athena (Trino) SQL over the org-trail CloudTrail table;
-- `python -m orgtrail query console-signin-without-mfa` runs the same file locally. Keep the selection in step with
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
  AND useridentity.type = 'IAMUser'
  AND json_extract_scalar(additionaleventdata, '$.MFAUsed') <> 'Yes'
  AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success'
ORDER BY eventtime
