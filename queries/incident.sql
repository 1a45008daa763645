-- name: stage_burst_minutes
-- Requests, failures and server errors per route and minute between $since and $until, as
-- the temporary table burst_minutes that detect_bursts reads (and the weekly report).
CREATE OR REPLACE TEMP TABLE burst_minutes AS
    SELECT method, route, minute, sum(requests) AS requests, sum(failures) AS failures,
           sum(server_errors) AS server_errors
    FROM requests_per_minute($since::TIMESTAMPTZ, $until::TIMESTAMPTZ)
    GROUP BY ALL;

-- name: detect_bursts
-- Bursts in burst_minutes, for the whole API (scope '') and for each route family (a route
-- up to its first parameter: /v1/schedules/{id}/overrides is /v1/schedules). A scope's
-- baseline is its own rate over the period: failures per request and server errors per
-- request. A window of 1, 5, 15 or 60 minutes (see sized) is hot when one of the two counts
-- in it is at least $min_count, at least $factor times what the baseline rate expects of
-- that window's requests (the mean), and unlikely by chance: a Poisson upper tail below
-- exp($ln_alpha) over the number of tests (see threshold). The tail is bounded from above
-- without summing terms: P(X >= k) <= P(X = k) * (k + 1) / (k + 1 - mean) while
-- k + 1 > mean (each next term is at most mean / (k + 1) of the one before), so a window
-- called hot is at least that unlikely. Hot windows of a scope that overlap or lie at most
-- $gap_minutes quiet minutes apart merge into one island, cut at silences unlikely at its
-- own rate (see parts) and trimmed to its stretch least likely by chance (see best), with
-- the bursts beside that stretch. Each burst: scope, start, end, its counts, what its
-- baseline expects of its failures, the excess over that, and the natural log of its
-- failures' tail bound.
WITH families AS (
    SELECT route, route_family(route) AS family FROM (SELECT DISTINCT route FROM burst_minutes)
), by_family AS (
    SELECT f.family AS scope, b.minute, sum(b.requests) AS requests,
           sum(b.failures) AS failures, sum(b.server_errors) AS server_errors
    FROM burst_minutes b JOIN families f ON b.route IS NOT DISTINCT FROM f.route
    GROUP BY ALL
), scoped AS MATERIALIZED (
    SELECT '' AS scope, minute, sum(requests) AS requests, sum(failures) AS failures,
           sum(server_errors) AS server_errors
    FROM by_family GROUP BY minute
    UNION ALL
    SELECT * FROM by_family
), rates AS (
    SELECT scope, sum(failures) / sum(requests) AS failure_rate,
           sum(server_errors) / sum(requests) AS server_error_rate
    FROM scoped GROUP BY scope HAVING sum(failures) > 0
), sized AS (
    -- the windows: each minute, and windows of 5, 15 and 60 minutes on two grids half a
    -- window apart (any stretch up to half a window long lies whole in one of them); as
    -- plain groupings, several times cheaper than sliding frames
    SELECT scope, 1 AS size, minute AS first_minute, requests, failures, server_errors
    FROM scoped
    UNION ALL
    SELECT scope, w.size, ((minute + w.shift) // w.size) * w.size - w.shift, sum(requests),
           sum(failures), sum(server_errors)
    FROM scoped, (VALUES (5, 0), (5, 2), (15, 0), (15, 7), (60, 0), (60, 30)) w(size, shift)
    GROUP BY ALL
), threshold AS (
    -- every window is tested twice (failures, server errors): each test at $ln_alpha over
    -- their number (Bonferroni), so that a period of ordinary traffic raises a false alarm
    -- anywhere less often than exp($ln_alpha)
    SELECT $ln_alpha - ln(2 * count(*)) AS ln_alpha FROM sized
), tested AS (
    -- (the cheap half of surprising first: the Poisson tail only for the windows it leaves)
    SELECT scope, first_minute, first_minute + size - 1 AS last_minute,
           surprising(failures, requests * failure_rate, $min_count, $factor, t.ln_alpha)
               AS by_failures,
           surprising(server_errors, requests * server_error_rate, $min_count, $factor, t.ln_alpha)
               AS by_server_errors
    FROM sized JOIN rates USING (scope), threshold t
    WHERE (failures >= $min_count AND failures >= $factor * requests * failure_rate)
       OR (server_errors >= $min_count AND server_errors >= $factor * requests * server_error_rate)
), hot AS (
    SELECT *, max(last_minute) OVER (PARTITION BY scope ORDER BY first_minute, last_minute
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM tested WHERE by_failures OR by_server_errors
), islands AS (
    SELECT scope, island, min(first_minute) AS first_minute, max(last_minute) AS last_minute,
           bool_or(by_failures) AS by_failures, bool_or(by_server_errors) AS by_server_errors
    FROM (
        SELECT *, sum(CASE WHEN reach IS NULL OR first_minute - reach - 1 > $gap_minutes
                           THEN 1 ELSE 0 END)
                      OVER (PARTITION BY scope ORDER BY first_minute, last_minute) AS island
        FROM hot
    )
    GROUP BY scope, island
), island_minutes AS (
    -- each island's minutes, with the count of the signal that made it hot (server errors
    -- when they did: the more specific of the two) and what the baseline expects of it
    SELECT i.scope, i.island, s.minute, sig.k, sig.m
    FROM islands i JOIN scoped s ON s.scope = i.scope
        AND s.minute BETWEEN i.first_minute AND i.last_minute
    JOIN rates r ON r.scope = i.scope,
    LATERAL (SELECT CASE WHEN i.by_server_errors THEN s.server_errors ELSE s.failures END AS k,
                    s.requests * CASE WHEN i.by_server_errors THEN r.server_error_rate
                                      ELSE r.failure_rate END AS m) sig
), events AS (
    SELECT scope, island, minute, lag(minute) OVER (PARTITION BY scope, island ORDER BY minute)
               AS previous
    FROM island_minutes WHERE k > 0
), event_rates AS (
    SELECT scope, island, sum(k) / (max(minute) - min(minute) + 1) AS per_minute
    FROM island_minutes WHERE k > 0 GROUP BY scope, island
), parts AS (
    -- a long window can join two bursts far apart into one island: it is cut where more
    -- than $gap_minutes minutes pass without a count, and as long a silence is less likely
    -- than exp($ln_gap) at the island's own rate (a slow storm's pauses are not cuts)
    SELECT e.scope, e.island, e.minute,
           sum(CASE WHEN e.minute - e.previous - 1 > $gap_minutes
                     AND -r.per_minute * (e.minute - e.previous - 1) < $ln_gap
                    THEN 1 ELSE 0 END) OVER (PARTITION BY e.scope, e.island ORDER BY e.minute)
               AS part
    FROM events e JOIN event_rates r USING (scope, island)
), pieces AS (
    SELECT scope, island, part, min(minute) AS first_minute, max(minute) AS last_minute
    FROM parts GROUP BY ALL
), piece_minutes AS (
    -- each piece's minutes, their counts and expectations summed along the piece
    SELECT m.scope, [p.island, p.part] AS piece, m.minute, m.k, m.m,
           sum(m.k) OVER run AS ck, sum(m.m) OVER run AS cm
    FROM island_minutes m JOIN pieces p ON m.scope = p.scope AND m.island = p.island
        AND m.minute BETWEEN p.first_minute AND p.last_minute
    WINDOW run AS (PARTITION BY m.scope, p.island, p.part ORDER BY m.minute
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), stretches AS (
    -- every stretch of an island that starts and ends on a minute with a count: its count
    -- k, its expectation m, and how unlikely it is by chance, as the log-likelihood ratio
    -- k ln(k / m) - (k - m) (the scan statistic)
    SELECT a.scope, a.piece, a.minute AS first_minute, b.minute AS last_minute,
           b.ck - a.ck + a.k AS k, b.cm - a.cm + a.m AS m,
           (b.ck - a.ck + a.k) * ln((b.ck - a.ck + a.k) / (b.cm - a.cm + a.m))
               - ((b.ck - a.ck + a.k) - (b.cm - a.cm + a.m)) AS llr
    FROM piece_minutes a JOIN piece_minutes b
        ON a.scope = b.scope AND a.piece = b.piece AND a.minute <= b.minute
    WHERE a.k > 0 AND b.k > 0 AND a.m > 0
), best AS (
    -- each piece's least likely stretch, when it is a burst (a piece cut off an island may
    -- hold a stray failure or two): a stray failure far from the burst does not stretch
    -- it, nor does a quiet first minute cut its onset
    SELECT scope, piece, arg_max([first_minute, last_minute], llr) AS stretch,
           arg_max(surprising(k, m, $min_count, $factor, t.ln_alpha), llr) AS is_burst
    FROM stretches, threshold t GROUP BY scope, piece
), beside AS (
    -- and the least likely stretch before it and after it, when that is a burst too
    SELECT s.scope, s.piece, s.last_minute < b.stretch[1] AS before,
           arg_max([s.first_minute, s.last_minute], s.llr) AS stretch,
           arg_max(surprising(s.k, s.m, $min_count, $factor, t.ln_alpha), s.llr) AS is_burst
    FROM stretches s JOIN best b USING (scope, piece), threshold t
    WHERE s.last_minute < b.stretch[1] OR s.first_minute > b.stretch[2]
    GROUP BY ALL
), trimmed AS (
    SELECT scope, stretch FROM best WHERE is_burst
    UNION ALL
    SELECT scope, stretch FROM beside WHERE is_burst
), bursts AS (
    SELECT t.scope, t.stretch[1] AS first_minute, t.stretch[2] AS last_minute,
           sum(s.requests) AS requests, sum(s.failures) AS failures,
           sum(s.server_errors) AS server_errors,
           sum(s.requests) * any_value(r.failure_rate) AS expected_failures
    FROM trimmed t JOIN scoped s ON s.scope = t.scope
        AND s.minute BETWEEN t.stretch[1] AND t.stretch[2]
    JOIN rates r ON r.scope = t.scope
    GROUP BY t.scope, t.stretch
)
SELECT scope, to_timestamp(first_minute * 60) AS start, to_timestamp((last_minute + 1) * 60) AS "end",
       failures, server_errors, requests, round(expected_failures, 2) AS expected_failures,
       round(failures - expected_failures, 2) AS excess,
       round(poisson_tail_ln(failures, expected_failures), 2) AS ln_tail
FROM bursts
ORDER BY excess DESC, start, scope;

-- name: incident_impact
-- What one window cost: requests, failures, server errors, orgs and API keys hit, and the
-- same measures over the $baseline_minutes before the window, for comparison; for the whole
-- API, or for one route family ($family, see route_family) when it is not NULL. The counts
-- come from the per-minute roll-up (requests_per_minute, exact for any window), the orgs
-- and keys from failed_requests.
WITH win AS (
    SELECT coalesce(sum(requests), 0) AS requests, coalesce(sum(failures), 0) AS failures,
           coalesce(sum(server_errors), 0) AS server_errors
    FROM requests_per_minute($since::TIMESTAMPTZ, $until::TIMESTAMPTZ)
    WHERE $family IS NULL OR route_family(route) = $family
), base AS (
    SELECT coalesce(sum(requests), 0) AS requests, coalesce(sum(failures), 0) AS failures
    FROM requests_per_minute($since::TIMESTAMPTZ - to_minutes($baseline_minutes::BIGINT),
                             $since::TIMESTAMPTZ)
    WHERE $family IS NULL OR route_family(route) = $family
), hit AS (
    SELECT count(DISTINCT org_id) AS orgs, count(DISTINCT api_key_id) AS keys
    FROM failed_requests
    WHERE ts >= $since AND ts < $until AND ($family IS NULL OR route_family(route) = $family)
)
SELECT win.requests, win.failures, win.server_errors, hit.orgs AS orgs_affected,
       hit.keys AS keys_affected, base.requests AS baseline_requests,
       base.failures AS baseline_failures
FROM win, base, hit;

-- name: stage_window_customers
-- window_customers: a window's failures (of the API, or of route family $family) counted
-- per org and API key, for incident_concentration. Failures with no org or key count too.
CREATE OR REPLACE TEMP TABLE window_customers AS
    SELECT org_id, api_key_id, count(*) AS n FROM failed_requests
    WHERE ts >= $since AND ts < $until AND ($family IS NULL OR route_family(route) = $family)
    GROUP BY ALL;

-- name: incident_concentration
-- Whether one customer explains a window's failures (window_customers): the org and the API
-- key with the most failures, their counts, and whether the failures left without each are
-- still a burst where $expected were expected (surprising, as detect_bursts tests a
-- window). Failures with no org or key belong to no customer.
WITH top_org AS (
    SELECT org_id, sum(n) AS n FROM window_customers WHERE org_id IS NOT NULL
    GROUP BY org_id ORDER BY n DESC, org_id LIMIT 1
), top_key AS (
    SELECT api_key_id, min(org_id) AS org_id, sum(n) AS n FROM window_customers
    WHERE api_key_id IS NOT NULL
    GROUP BY api_key_id ORDER BY n DESC, api_key_id LIMIT 1
), total AS (
    SELECT coalesce(sum(n), 0) AS n FROM window_customers
)
SELECT total.n AS failures,
       top_org.org_id AS org_id, coalesce(top_org.n, 0) AS org_failures,
       surprising(total.n - coalesce(top_org.n, 0), $expected, $min_count, $factor, $ln_alpha)
           AS burst_without_org,
       top_key.api_key_id AS api_key_id, top_key.org_id AS key_org_id,
       coalesce(top_key.n, 0) AS key_failures,
       surprising(total.n - coalesce(top_key.n, 0), $expected, $min_count, $factor, $ln_alpha)
           AS burst_without_key
FROM total LEFT JOIN top_org ON true LEFT JOIN top_key ON true;

-- name: incident_breakdown
-- The window's failures by code and by route (dimension 'code' or 'route'), most first,
-- with the orgs they hit and the three earliest as examples (row ids in failed_requests:
-- examples_at reads their request ids and places; ties in time go to the smaller id, then
-- the earlier file and line). A code row names its type and code (nullif: an empty code is
-- no code) and whether its failures carried no error information at all (bare); a route
-- row names its route as key. Read from failed_requests; of one route family when $family
-- is not NULL.
WITH failures AS (
    SELECT *, error_source = 'none' AS bare,
           {'ts': ts, 'request_id': request_id, 'source_id': source_id, 'line_no': line_no,
            'row_id': rowid} AS example
    FROM failed_requests
    WHERE ts >= $since AND ts < $until AND ($family IS NULL OR route_family(route) = $family)
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
-- Requests, failures and server errors per $bucket_minutes-minute bucket of the window (of
-- one route family when $family is not NULL). (Buckets counted from $since in whole
-- microseconds, as time_bucket would, in words Spark SQL knows too.)
SELECT $since::TIMESTAMPTZ
       + to_seconds((epoch_us(ts) - epoch_us($since::TIMESTAMPTZ))
                    // ($bucket_minutes::BIGINT * 60000000) * $bucket_minutes::BIGINT * 60)
           AS bucket,
       count(*) AS requests,
       count(*) FILTER (WHERE failed) AS failures,
       count(*) FILTER (WHERE status >= 500) AS server_errors
FROM events
WHERE kind = 'request' AND ts >= $since AND ts < $until
  AND ($family IS NULL OR route_family(route) = $family)
GROUP BY ALL
ORDER BY bucket;
