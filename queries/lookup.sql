-- name: lookup_records
-- Every stored line carrying one of the request ids $ids (events and rejected lines), with
-- where it came from, in time order. The caller passes each id as quoted and in lower case
-- (UUIDs are not case-sensitive; a customer may quote one in capitals). The request-id
-- index names the lines first (schema.sql, migrate_to_v6): its runs are sorted by the id's
-- 32-bit hash, so DuckDB reads the few row groups whose hash range holds it, and then only
-- the rows the index names, whatever the store's size. Valid only while this DuckDB's hash()
-- wrote the hashes (see rid_hash_probe); otherwise lookup_records_by_text.
WITH hits AS (
    SELECT source_id, line_no FROM request_index
    WHERE list_contains(list_transform($ids, lambda i: (hash(i) >> 32)::UINTEGER), rid_hash)
    UNION ALL
    SELECT source_id, line_no FROM request_index_tail
    WHERE list_contains(list_transform($ids, lambda i: (hash(i) >> 32)::UINTEGER), rid_hash)
)
SELECT r.request_id, r.kind, r.reject_reason, r.ts, r.service, r.method, r.path, r.route,
       r.status, r.duration_ms, r.org_id, r.api_key_id, r.user_agent, r.client_ip, r.level,
       r.message, r.failed, r.has_error_body, r.error_source, r.error_type, r.error_code, r.error_message,
       r.error_status, r.error_request_id, s.path AS source_path, r.line_no, r.byte_offset,
       CASE WHEN r.kind IN ('trace', 'log') THEN event_fields(r.raw) END AS fields
FROM records r JOIN hits h USING (source_id, line_no) JOIN sources s USING (source_id)
WHERE list_contains($ids, r.request_id)
ORDER BY r.request_id, r.ts NULLS LAST, r.source_id, r.line_no;

-- name: lookup_records_by_text
-- lookup_records for a store whose hashes another DuckDB's hash() wrote: every id compared
-- as text (a scan of the store, until a writer hashes the ids again).
SELECT r.request_id, r.kind, r.reject_reason, r.ts, r.service, r.method, r.path, r.route,
       r.status, r.duration_ms, r.org_id, r.api_key_id, r.user_agent, r.client_ip, r.level,
       r.message, r.failed, r.has_error_body, r.error_source, r.error_type, r.error_code, r.error_message,
       r.error_status, r.error_request_id, s.path AS source_path, r.line_no, r.byte_offset,
       CASE WHEN r.kind IN ('trace', 'log') THEN event_fields(r.raw) END AS fields
FROM records r JOIN sources s USING (source_id)
WHERE list_contains($ids, r.request_id)
ORDER BY r.request_id, r.ts NULLS LAST, r.source_id, r.line_no;

-- name: lookup_rejected_lines
-- The rejected lines that hold one of the ids $ids (lower case) in their text although no
-- request id could be read from them (a line cut short, not JSON, too long...): where an id
-- that is nowhere else was logged. Only lines rejected without an id are read, by their
-- text; each row names the id it holds (matched) and has lookup_records' columns.
SELECT m.matched AS request_id, r.kind, r.reject_reason, r.ts, r.service, r.method, r.path,
       r.route, r.status, r.duration_ms, r.org_id, r.api_key_id, r.user_agent, r.client_ip,
       r.level, r.message, r.failed, r.has_error_body, r.error_source, r.error_type,
       r.error_code, r.error_message, r.error_status, r.error_request_id,
       s.path AS source_path, r.line_no, r.byte_offset, NULL AS fields
FROM records r JOIN sources s USING (source_id),
     LATERAL (SELECT unnest(list_filter($ids, lambda i: contains(lower(r.raw), i))) AS matched) m
WHERE r.kind = 'reject' AND r.request_id IS NULL
ORDER BY m.matched, r.source_id, r.line_no;

-- name: lookup_key_changes
-- When things changed for the API key $key (of org $org) around a failure at $at: its last
-- success before, the first failure after that (when it started failing), how many times
-- it failed from then until its next success (or $until), that next success, and whether
-- the org's other keys kept working since it started failing (their successes and how many
-- keys). Read from the org's requests between $since and $until.
WITH around AS (
    SELECT ts, failed, api_key_id IS NOT DISTINCT FROM $key AS same_key, api_key_id
    FROM events
    WHERE kind = 'request' AND ts >= $since AND ts < $until
      AND (org_id = $org OR ($org IS NULL AND api_key_id = $key))
), turns AS (
    SELECT max(ts) FILTER (WHERE same_key AND NOT failed AND ts < $at) AS last_success,
           min(ts) FILTER (WHERE same_key AND NOT failed AND ts > $at) AS next_success
    FROM around
), streak AS (
    SELECT min(a.ts) FILTER (WHERE a.same_key AND a.failed) AS failing_since,
           count(*) FILTER (WHERE a.same_key AND a.failed) AS failures
    FROM around a, turns t
    WHERE a.ts > coalesce(t.last_success, $since::TIMESTAMPTZ - INTERVAL 1 MICROSECOND)
      AND a.ts < coalesce(t.next_success, $until::TIMESTAMPTZ)
)
SELECT t.last_success, s.failing_since, s.failures, t.next_success,
       (SELECT count(*) FROM around WHERE NOT same_key AND NOT failed
                                      AND ts >= s.failing_since) AS other_keys_successes,
       (SELECT count(DISTINCT api_key_id) FROM around WHERE NOT same_key AND NOT failed
                                      AND ts >= s.failing_since) AS other_keys_working
FROM turns t, streak s;

-- name: lookup_prefix
-- Request ids starting with $prefix (any case), up to $limit of them, for --prefix and for
-- suggestions when an id is not found.
SELECT request_id, min(ts) AS first_seen, count(*) AS events
FROM events
WHERE starts_with(lower(request_id), lower($prefix))
GROUP BY request_id
ORDER BY first_seen
LIMIT $limit;

-- name: lookup_related_failures
-- Other failures of the same org and of the same API key between $since and $until,
-- grouped by code: what else went wrong for this customer around this request. One scan of
-- failed_requests (the failures copied apart, in time order: the window's row groups only);
-- a failure of both the org and the key counts in each scope.
WITH nearby AS (
    SELECT *, list_filter([CASE WHEN org_id = $org THEN 'org' END,
                           CASE WHEN api_key_id = $key THEN 'key' END],
                          lambda s: s IS NOT NULL) AS scopes
    FROM failed_requests
    WHERE ts BETWEEN $since AND $until AND request_id <> $request_id
      AND (org_id = $org OR api_key_id = $key)
)
SELECT scope, error_type, error_code, status, count(*) AS count,
       min(ts) AS first_seen, max(ts) AS last_seen,
       count(*) FILTER (WHERE ts < $at) AS before, count(*) FILTER (WHERE ts > $at) AS after,
       list(request_id ORDER BY ts)[1:3] AS examples
FROM (SELECT unnest(scopes) AS scope, * EXCLUDE (scopes) FROM nearby)
GROUP BY ALL
ORDER BY scope DESC, count DESC, error_code;

-- name: lookup_retries
-- Requests that look like retries of this one: same org (or key), method and route within
-- $since..$until, in time order.
SELECT request_id, ts, status, error_code, duration_ms
FROM events
WHERE kind = 'request' AND method = $method AND route = $route
  AND ts BETWEEN $since AND $until AND request_id <> $request_id
  AND (org_id = $org OR ($org IS NULL AND api_key_id = $key))
ORDER BY ts
LIMIT 20;

-- name: server_error_bursts
-- Bursts of 5xx between $since and $until: minutes with at least $min_errors server errors,
-- merged when less than $gap_minutes apart. Each burst: start, end, 5xx count, requests in
-- those minutes, routes and orgs hit.
WITH minutes AS (
    SELECT date_trunc('minute', ts) AS minute,
           count(*) FILTER (WHERE status >= 500) AS errors, count(*) AS requests
    FROM events
    WHERE kind = 'request' AND ts BETWEEN $since AND $until
    GROUP BY ALL
), hot AS (
    SELECT minute, errors, requests,
           CASE WHEN minute - lag(minute) OVER (ORDER BY minute)
                     <= to_minutes($gap_minutes::BIGINT) THEN 0 ELSE 1 END AS starts_burst
    FROM minutes WHERE errors >= $min_errors
), numbered AS (
    SELECT *, sum(starts_burst) OVER (ORDER BY minute) AS burst FROM hot
)
SELECT burst, min(minute) AS start, max(minute) + INTERVAL 1 MINUTE AS "end",
       sum(errors) AS server_errors, sum(requests) AS requests
FROM numbered
GROUP BY burst
ORDER BY start;
