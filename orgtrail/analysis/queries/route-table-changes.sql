-- Route table changes
-- CIS AWS Foundations Benchmark v3.0, control 4.13. Athena (Trino) SQL over the org-trail CloudTrail table;
-- `python -m orgtrail query route-table-changes` runs the same file locally. Keep the selection in step with
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
WHERE eventsource = 'ec2.amazonaws.com'
  AND eventname IN ('CreateRoute', 'CreateRouteTable', 'ReplaceRoute', 'ReplaceRouteTableAssociation', 'DeleteRouteTable', 'DeleteRoute', 'DisassociateRouteTable')
ORDER BY eventtime
