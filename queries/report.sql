-- name: report_unordered_staging
-- The report's staged tables are read only by queries that sort what they return, so their
-- rows need not keep scan order; not keeping it lets DuckDB write them in parallel without
-- re-ordering (about a third off staging the failures).
SET preserve_insertion_order = false;

-- name: report_ordered_again
-- Back to DuckDB's default once the report is staged: the connection may run other queries.
RESET preserve_insertion_order;

-- name: report_stage_counts
-- report_counts: requests, failures and server errors per local day and hour (of the zone
-- whose UTC offsets are $offset_starts / $utc_offsets: see local_time), per week, so no
-- section rescans the store. This week's come from burst_minutes (staged
-- first by stage_burst_minutes, per route and minute, for the incident detections too),
-- summed per route; the previous week is only compared in total, so it is summed per
-- quarter hour from the roll-up (requests_per_minute), without routes. Quarter hours map onto
-- local hours exactly: every real time zone's offset is a whole number of them.
CREATE OR REPLACE TEMP TABLE report_counts AS
    WITH slots AS (
        SELECT 'this' AS week, minute // 15 AS slot, method, route, sum(requests) AS requests,
               sum(failures) AS failures, sum(server_errors) AS server_errors
        FROM burst_minutes GROUP BY ALL
        UNION ALL
        SELECT 'prev', minute // 15, NULL, NULL, sum(requests), sum(failures),
               sum(server_errors)
        FROM requests_per_minute($prev_start::TIMESTAMPTZ, $start::TIMESTAMPTZ)
        GROUP BY 1, 2
    )
    SELECT week,
           strftime(local_time(to_timestamp(slot * 900), $offset_starts, $utc_offsets),
                    '%Y-%m-%d') AS day,
           hour(local_time(to_timestamp(slot * 900), $offset_starts, $utc_offsets)) AS hour,
           method, route, sum(requests) AS requests, sum(failures) AS failures,
           sum(server_errors) AS server_errors
    FROM slots GROUP BY ALL;

-- name: report_stage_failures
-- report_failures: the failed requests of the two weeks, from failed_requests, counted. This
-- week's by everything its sections tell apart (failure_groups: 640,000 failures at 50M
-- lines are a few hundred groups, so no section reads failures one by one), each group with
-- its count n and its two latest failures (latest), whose ids are fetched by row id at the
-- end (examples_at). The previous week is only compared by code (or status, without error
-- information) and org, so it is counted by those alone (the other columns NULL): half the
-- cost of its full groups, whose checks of the error body it never uses. (The columns of
-- failure_groups, in its order: a union by position, which Spark SQL runs too.)
CREATE OR REPLACE TEMP TABLE report_failures AS
    SELECT 'this' AS week, * FROM failure_groups($start::TIMESTAMPTZ, $end::TIMESTAMPTZ, 2)
    UNION ALL
    SELECT 'prev' AS week, NULL AS method, NULL AS route, status, org_id, NULL AS api_key_id,
           error_type, error_code, error_source, NULL AS shape, NULL AS body_status_differs,
           NULL AS body_id_missing, NULL AS body_id_not_uuid, NULL AS body_id_differs,
           count(*) AS n, NULL AS first_seen, NULL AS last_seen, NULL AS latest
    FROM failed_requests
    WHERE ts >= $prev_start AND ts < $start
    GROUP BY status, org_id, error_type, error_code, error_source;

-- name: report_headline
-- Requests, failures, server errors and orgs affected, this week and the previous one, and
-- how many hours of each week have any request at all (the baseline guard).
SELECT w.week,
       coalesce(sum(c.requests), 0) AS requests,
       coalesce(sum(c.failures), 0) AS failures,
       coalesce(sum(c.server_errors), 0) AS server_errors,
       (SELECT count(DISTINCT org_id) FROM report_failures f WHERE f.week = w.week) AS orgs_affected,
       (SELECT count(*) FROM (SELECT DISTINCT day, hour FROM report_counts h WHERE h.week = w.week))
           AS hours_with_data
FROM (VALUES ('this'), ('prev')) w(week)
LEFT JOIN report_counts c ON c.week = w.week
GROUP BY w.week;

-- name: report_codes
-- Failures by type and code, this week against the previous one. Failures with no error
-- information at all (error_source 'none', `bare`: an access log of a proxy or web server)
-- have no type or code to tell them apart, so they are told apart by their status. A code's
-- status is its most frequent over both weeks (weighted by the counts, ties to the smallest).
WITH failures AS (
    SELECT *, error_source = 'none' AS bare,
           CASE WHEN error_source = 'none' THEN status END AS bare_status
    FROM report_failures
), statuses AS (
    SELECT error_type, error_code, bare, bare_status,
           arg_min(status, {'n': -n, 'status': status}) AS status
    FROM (SELECT error_type, error_code, bare, bare_status, status, sum(n) AS n
          FROM failures WHERE status IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
)
SELECT f.error_type AS type, f.error_code AS code,
       coalesce(any_value(f.bare_status), any_value(s.status)) AS status, f.bare,
       coalesce(sum(f.n) FILTER (WHERE f.week = 'this'), 0) AS count,
       coalesce(sum(f.n) FILTER (WHERE f.week = 'prev'), 0) AS prev_count,
       count(DISTINCT f.org_id) FILTER (WHERE f.week = 'this') AS orgs,
       -- the two latest of the code: the latest of its groups, merged
       list_transform(list_sort(flatten(list(f.latest) FILTER (WHERE f.week = 'this')),
                                'DESC')[1:2],
                      lambda x: x.row_id) AS example_rows
FROM failures f
LEFT JOIN statuses s
       ON s.error_type IS NOT DISTINCT FROM f.error_type
      AND s.error_code IS NOT DISTINCT FROM f.error_code
      AND s.bare IS NOT DISTINCT FROM f.bare
      AND s.bare_status IS NOT DISTINCT FROM f.bare_status
GROUP BY f.error_type, f.error_code, f.bare, f.bare_status
ORDER BY count DESC, prev_count DESC, type, code, status;

-- name: report_routes
-- This week's top failing route and code pairs, with the route's requests. bare_statuses
-- counts the statuses of a pair whose every failure has no error information (NULL for
-- the others).
WITH pairs AS (
    SELECT method, route, error_code AS code, status, sum(n) AS count,
           bool_and(error_source = 'none') AS bare
    FROM report_failures WHERE week = 'this'
    GROUP BY ALL
)
SELECT p.method, p.route, p.code, sum(p.count) AS count,
       any_value(r.requests) AS route_requests,
       CASE WHEN bool_and(p.bare) THEN map_from_entries(list((p.status, p.count)
                                                            ORDER BY p.status)) END
           AS bare_statuses
FROM pairs p
LEFT JOIN (SELECT method, route, sum(requests) AS requests FROM report_counts
           WHERE week = 'this' GROUP BY ALL) r USING (method, route)
GROUP BY p.method, p.route, p.code
ORDER BY count DESC, p.route, p.method, p.code
LIMIT $limit;

-- name: report_top
-- This week's most affected orgs and API keys (ids only), with their main failure code (the
-- most frequent, ties to the smallest; NULL when none of their failures has a code).
WITH per_code AS (
    SELECT dimension, id, error_code, sum(n) AS n
    FROM (
        SELECT 'org' AS dimension, org_id AS id, error_code, n FROM report_failures
        WHERE week = 'this' AND org_id IS NOT NULL
        UNION ALL
        SELECT 'key', api_key_id, error_code, n FROM report_failures
        WHERE week = 'this' AND api_key_id IS NOT NULL
    )
    GROUP BY ALL
)
SELECT dimension, id, sum(n) AS failures,
       arg_min(error_code, {'n': -n, 'code': error_code}) FILTER (WHERE error_code IS NOT NULL)
           AS main_code,
       count(error_code) AS codes
FROM per_code
GROUP BY dimension, id
QUALIFY row_number() OVER (PARTITION BY dimension ORDER BY sum(n) DESC, id) <= $limit
ORDER BY dimension DESC, failures DESC, id;

-- name: report_daily
-- This week's requests and failures per day, and failures per day by type (for the chart),
-- local days (see local_time). Failures with no error information count under the type
-- $no_error_body, other failures without a type under '?'. The types per quarter hour are
-- counted from failed_requests ($start to $end): report_failures holds no times.
SELECT c.day, c.requests, c.failures, c.server_errors, t.by_type
FROM (SELECT day, sum(requests) AS requests, sum(failures) AS failures,
             sum(server_errors) AS server_errors
      FROM report_counts WHERE week = 'this' GROUP BY day) c
LEFT JOIN (SELECT day, map_from_entries(list((type, n))) AS by_type
           FROM (SELECT strftime(local_time(to_timestamp(slot * 900), $offset_starts,
                                            $utc_offsets), '%Y-%m-%d') AS day,
                        type, sum(n) AS n
                 FROM (SELECT epoch_us(ts) // 900000000 AS slot,
                              coalesce(error_type,
                                       CASE WHEN error_source = 'none' THEN $no_error_body
                                            ELSE '?' END) AS type,
                              count(*) AS n
                       FROM failed_requests WHERE ts >= $start AND ts < $end GROUP BY ALL)
                 GROUP BY ALL)
           GROUP BY day) t USING (day)
ORDER BY c.day;

-- name: report_hourly
-- This week's requests and failures per day and hour (the failure-rate chart and the gaps).
SELECT day, hour, sum(requests) AS requests, sum(failures) AS failures
FROM report_counts WHERE week = 'this'
GROUP BY ALL ORDER BY day, hour;

-- name: report_data_quality
-- What the week's numbers stand on: the files that hold its events, their lines, and the
-- lines rejected from those files, by reason (one row per file and reason; reason NULL for a
-- file with none). A file holds some of the week when it has requests in the week's whole
-- minutes (request_minutes); only the files whose time span (source_lines) reaches into the
-- week without such requests are looked for among the rows (none, most weeks: DuckDB then
-- skips the scan). The rejects are counted from source_lines, not found among the rows.
WITH with_requests AS (
    SELECT DISTINCT source_id FROM request_minutes
    WHERE minute >= first_whole_minute($start::TIMESTAMPTZ)
      AND minute < minute_of($end::TIMESTAMPTZ)
), unsure AS (
    SELECT source_id FROM source_lines WHERE first_ts < $end AND last_ts >= $start
    EXCEPT
    SELECT source_id FROM with_requests
), week_sources AS (
    SELECT source_id FROM with_requests
    UNION
    SELECT DISTINCT source_id FROM records
    WHERE ts >= $start AND ts < $end AND source_id IN (SELECT source_id FROM unsure)
), rejected AS (
    SELECT source_id, reject_reason AS reason, sum(lines) AS lines
    FROM source_lines
    WHERE kind = 'reject'
    GROUP BY ALL
)
SELECT s.source_id, s.path, s.lines_consumed AS lines, r.reason,
       coalesce(r.lines, 0) AS rejected
FROM week_sources w
JOIN sources s USING (source_id)
LEFT JOIN rejected r USING (source_id)
ORDER BY s.path, s.source_id, r.reason;

-- name: report_contract_input
-- This week's staged failures as the contract check's input (see contract_failures), so the
-- report's contract section does not scan the store again. A view: the check reads it once.
CREATE OR REPLACE TEMP VIEW contract_input AS
    SELECT * EXCLUDE (week) FROM report_failures WHERE week = 'this';
