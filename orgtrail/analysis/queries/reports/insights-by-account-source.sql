-- CloudTrail Insights of the last 30 days, by account and event source
-- Athena (Trino) SQL over cloudtrail_insights; `orgtrail query --report insights-by-account-source` runs it
-- locally (30 days before the newest Insights event read, so a copy synced earlier reads the same).
WITH insights AS (
  SELECT insight.*
  FROM cloudtrail_insights
  CROSS JOIN UNNEST(records) AS t (insight)
  WHERE insight.eventtype = 'AwsCloudTrailInsight' AND insight.insightdetails.state = 'Start'
),
window_end AS (
  SELECT COALESCE(MAX(from_iso8601_timestamp(eventtime)), current_timestamp) AS newest FROM insights
)
SELECT
  recipientaccountid,
  insightdetails.eventsource AS eventsource,
  COUNT(*) AS insights,
  COUNT_IF(insightdetails.insighttype = 'ApiCallRateInsight') AS callrate,
  COUNT_IF(insightdetails.insighttype = 'ApiErrorRateInsight') AS errorrate,
  MIN(eventtime) AS firststart,
  MAX(eventtime) AS laststart
FROM insights
CROSS JOIN window_end
WHERE from_iso8601_timestamp(eventtime) >= newest - INTERVAL '30' DAY
GROUP BY recipientaccountid, insightdetails.eventsource
ORDER BY insights DESC, recipientaccountid, eventsource
