-- CloudTrail Insights still open: a start with no end yet, the oldest first
-- Athena (Trino) SQL over cloudtrail_insights; `orgtrail query --report insights-open` runs it locally.
WITH insights AS (
  SELECT insight.*
  FROM cloudtrail_insights
  CROSS JOIN UNNEST(records) AS t (insight)
  WHERE insight.eventtype = 'AwsCloudTrailInsight'
)
SELECT
  s.sharedeventid,
  s.eventtime AS starttime,
  s.recipientaccountid,
  s.awsregion,
  s.insightdetails.eventsource AS eventsource,
  s.insightdetails.eventname AS eventname,
  s.insightdetails.insighttype AS insighttype,
  s.insightdetails.insightcontext.statistics.baseline.average AS baselineaverage,
  s.insightdetails.insightcontext.statistics.insight.average AS insightaverage
FROM insights AS s
WHERE s.insightdetails.state = 'Start'
  AND NOT EXISTS (
    SELECT 1 FROM insights AS e
    WHERE e.sharedeventid = s.sharedeventid AND e.insightdetails.state = 'End'
  )
ORDER BY s.eventtime
