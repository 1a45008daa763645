-- name: stage_burst_minutes
-- Requests, failures and server errors per route and minute between $since and $until, as
-- the temporary table burst_minutes that failure_bursts and route_bursts read.
CREATE OR REPLACE TEMP TABLE burst_minutes AS
    SELECT method, route, minute, sum(requests) AS requests, sum(failures) AS failures,
           sum(server_errors) AS server_errors
    FROM requests_per_minute($since::TIMESTAMPTZ, $until::TIMESTAMPTZ)
    GROUP BY ALL;

-- name: failure_bursts
-- Windows in burst_minutes where the whole API's failures rose far above the period's usual
-- rate: minutes with at least $min_failures failures and at least $factor times the median
-- failures per minute (over minutes that saw traffic), merged when at most $gap_minutes
-- apart. Most excess failures first.
WITH minutes AS (
    SELECT minute, sum(failures) AS failures, sum(server_errors) AS server_errors,
           sum(requests) AS requests
    FROM burst_minutes GROUP BY minute
), usual AS (
    SELECT coalesce(median(failures), 0) AS per_minute FROM minutes
), hot AS (
    SELECT m.*, u.per_minute,
           CASE WHEN m.minute - lag(m.minute) OVER (ORDER BY m.minute) <= $gap_minutes
                THEN 0 ELSE 1 END AS starts_burst
    FROM minutes m, usual u
    WHERE m.failures >= greatest($min_failures, $factor * u.per_minute)
), numbered AS (
    SELECT *, sum(starts_burst) OVER (ORDER BY minute) AS burst FROM hot
)
SELECT to_timestamp(min(minute) * 60) AS start, to_timestamp((max(minute) + 1) * 60) AS "end",
       sum(failures) AS failures, sum(server_errors) AS server_errors,
       sum(requests) AS requests, any_value(per_minute) AS usual_per_minute,
       sum(failures) - any_value(per_minute) * count(*) AS excess
FROM numbered
GROUP BY burst
ORDER BY excess DESC, start;

-- name: incident_impact
-- What one window cost: requests, failures, server errors, orgs and API keys hit, and the
-- same measures over the $baseline_minutes before the window, for comparison. The counts
-- come from the per-minute roll-up (requests_per_minute, exact for any window), the orgs
-- and keys from failed_requests.
WITH win AS (
    SELECT coalesce(sum(requests), 0) AS requests, coalesce(sum(failures), 0) AS failures,
           coalesce(sum(server_errors), 0) AS server_errors
    FROM requests_per_minute($since::TIMESTAMPTZ, $until::TIMESTAMPTZ)
), base AS (
    SELECT coalesce(sum(requests), 0) AS requests, coalesce(sum(failures), 0) AS failures
    FROM requests_per_minute($since::TIMESTAMPTZ - to_minutes($baseline_minutes::BIGINT),
                             $since::TIMESTAMPTZ)
), hit AS (
    SELECT count(DISTINCT org_id) AS orgs, count(DISTINCT api_key_id) AS keys
    FROM failed_requests
    WHERE ts >= $since AND ts < $until
)
SELECT win.requests, win.failures, win.server_errors, hit.orgs AS orgs_affected,
       hit.keys AS keys_affected, base.requests AS baseline_requests,
       base.failures AS baseline_failures
FROM win, base, hit;

-- name: incident_breakdown
-- The window's failures by code and by route (dimension 'code' or 'route'), most first,
-- with the orgs they hit and the three earliest as examples (row ids in failed_requests:
-- examples_at reads their request ids and places; ties in time go to the smaller id, then
-- the earlier file and line). A code row names its type and code (nullif: an empty code is
-- no code) and whether its failures carried no error information at all (bare); a route
-- row names its route as key. Read from failed_requests.
WITH failures AS (
    SELECT *, error_source = 'none' AS bare,
           {'ts': ts, 'request_id': request_id, 'source_id': source_id, 'line_no': line_no,
            'row_id': rowid} AS example
    FROM failed_requests
    WHERE ts >= $since AND ts < $until
)
SELECT dimension, key, type, code, bare, status, count(*) AS count,
       count(DISTINCT org_id) AS orgs,
       list_transform(min(example, 3), lambda x: x.row_id) AS example_rows
FROM (
    SELECT 'code' AS dimension, NULL AS key, error_type AS type, nullif(error_code, '') AS code,
           bare, status, org_id, example
    FROM failures
    UNION ALL
    SELECT 'route', coalesce(method, '') || ' ' || coalesce(route, '?'), NULL, NULL, NULL, NULL,
           org_id, example
    FROM failures
)
GROUP BY ALL
ORDER BY dimension, count DESC, key, bare, type, code, status;

-- name: incident_timeline
-- Requests, failures and server errors per $bucket_minutes-minute bucket of the window.
SELECT time_bucket(to_minutes($bucket_minutes::BIGINT), ts, $since::TIMESTAMPTZ) AS bucket,
       count(*) AS requests,
       count(*) FILTER (WHERE failed) AS failures,
       count(*) FILTER (WHERE status >= 500) AS server_errors
FROM events
WHERE kind = 'request' AND ts >= $since AND ts < $until
GROUP BY ALL
ORDER BY bucket;

-- name: route_bursts
-- Windows in burst_minutes where one route's failures or server errors rose far above that
-- route's usual rate: minutes with at least $min_server_errors 5xx, or at least
-- $min_failures failures and $factor times the route's median failures per minute, merged
-- per route when at most $gap_minutes apart. Most failures first.
WITH usual AS (
    SELECT method, route, median(failures) AS per_minute FROM burst_minutes GROUP BY ALL
), hot AS (
    SELECT m.*,
           CASE WHEN m.minute - lag(m.minute) OVER (PARTITION BY m.method, m.route ORDER BY m.minute)
                     <= $gap_minutes THEN 0 ELSE 1 END AS starts_burst
    FROM burst_minutes m JOIN usual u USING (method, route)
    WHERE m.server_errors >= $min_server_errors
       OR m.failures >= greatest($min_failures, $factor * u.per_minute)
), numbered AS (
    SELECT *, sum(starts_burst) OVER (PARTITION BY method, route ORDER BY minute) AS burst
    FROM hot
)
SELECT method, route, to_timestamp(min(minute) * 60) AS start,
       to_timestamp((max(minute) + 1) * 60) AS "end",
       sum(failures) AS failures, sum(server_errors) AS server_errors, sum(requests) AS requests
FROM numbered
GROUP BY method, route, burst
ORDER BY failures DESC, start, method, route
LIMIT $limit;
