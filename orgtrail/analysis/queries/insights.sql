-- CloudTrail Insights: unusual API call and error rates, each start paired with its end
-- Athena (Trino) SQL over the org-trail Insights table (cloudtrail_insights, one row per Insights file);
-- `orgtrail query insights` runs the same file locally. A start and its end share sharedEventID; a start
-- without its end is still ongoing; an end whose start is not in the files read says so.
WITH insights AS (
  SELECT
    insight.sharedeventid AS sharedeventid,
    insight.eventtime AS eventtime,
    insight.recipientaccountid AS recipientaccountid,
    insight.awsregion AS awsregion,
    insight.insightdetails.state AS state,
    insight.insightdetails.eventsource AS eventsource,
    insight.insightdetails.eventname AS eventname,
    insight.insightdetails.insighttype AS insighttype,
    insight.insightdetails.insightcontext.statistics.baseline.average AS baselineaverage,
    insight.insightdetails.insightcontext.statistics.insight.average AS insightaverage,
    insight.insightdetails.insightcontext.statistics.insightduration AS insightduration
  FROM cloudtrail_insights
  CROSS JOIN UNNEST(records) AS t (insight)
  WHERE insight.eventtype = 'AwsCloudTrailInsight'
),
starts AS (SELECT * FROM insights WHERE state = 'Start'),
ends AS (SELECT * FROM insights WHERE state = 'End')
SELECT
  COALESCE(s.sharedeventid, e.sharedeventid) AS sharedeventid,
  CASE
    WHEN e.sharedeventid IS NULL THEN 'ongoing'
    WHEN s.sharedeventid IS NULL THEN 'ended (its start is not in the logs read)'
    ELSE 'ended'
  END AS status,
  s.eventtime AS starttime,
  e.eventtime AS endtime,
  COALESCE(s.recipientaccountid, e.recipientaccountid) AS recipientaccountid,
  COALESCE(s.awsregion, e.awsregion) AS awsregion,
  COALESCE(s.eventsource, e.eventsource) AS eventsource,
  COALESCE(s.eventname, e.eventname) AS eventname,
  COALESCE(s.insighttype, e.insighttype) AS insighttype,
  COALESCE(s.baselineaverage, e.baselineaverage) AS baselineaverage,
  COALESCE(e.insightaverage, s.insightaverage) AS insightaverage,
  e.insightduration AS insightduration
FROM starts AS s
FULL OUTER JOIN ends AS e ON s.sharedeventid = e.sharedeventid
ORDER BY COALESCE(s.eventtime, e.eventtime), sharedeventid
