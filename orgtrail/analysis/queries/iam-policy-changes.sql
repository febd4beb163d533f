-- IAM policy changes
-- CIS AWS Foundations Benchmark v3.0, control 4.4. Athena (Trino) SQL over the org-trail CloudTrail table;
-- `python -m orgtrail query iam-policy-changes` runs the same file locally. Keep the selection in step with
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
WHERE eventsource = 'iam.amazonaws.com'
  AND eventname IN ('DeleteGroupPolicy', 'DeleteRolePolicy', 'DeleteUserPolicy', 'PutGroupPolicy', 'PutRolePolicy', 'PutUserPolicy', 'CreatePolicy', 'DeletePolicy', 'CreatePolicyVersion', 'DeletePolicyVersion', 'SetDefaultPolicyVersion', 'AttachRolePolicy', 'DetachRolePolicy', 'AttachUserPolicy', 'DetachUserPolicy', 'AttachGroupPolicy', 'DetachGroupPolicy')
ORDER BY eventtime
