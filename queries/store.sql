-- name: store_overview
-- One row summarising the store for `triage info`: what it holds and the time it covers,
-- from the per-source counts (source_lines), however big the store.
SELECT
    (SELECT count(*) FROM sources) AS sources,
    coalesce(sum(lines) FILTER (WHERE kind = 'request'), 0) AS requests,
    coalesce(sum(lines) FILTER (WHERE kind = 'trace'), 0) AS trace_events,
    coalesce(sum(lines) FILTER (WHERE kind = 'log'), 0) AS log_events,
    coalesce(sum(lines) FILTER (WHERE kind = 'reject'), 0) AS rejected,
    coalesce(sum(repaired) FILTER (WHERE kind <> 'reject'), 0) AS repaired,
    (SELECT coalesce(sum(blank_lines), 0) FROM sources) AS blank_lines,
    min(first_ts) AS first_event,
    max(last_ts) AS last_event,
    (SELECT max(last_ingested_at) FROM sources) AS last_ingested_at
FROM source_lines;

-- name: store_sources
-- Every ingested source with what was taken from it, newest first: from the per-source
-- counts (source_lines, source_shapes), however big the store.
WITH lines AS (
    SELECT source_id,
           sum(lines) FILTER (WHERE kind <> 'reject') AS events,
           sum(lines) FILTER (WHERE kind = 'reject') AS rejected,
           min(first_ts) AS first_event, max(last_ts) AS last_event
    FROM source_lines
    GROUP BY source_id
), shapes AS (
    SELECT source_id,
           -- the shapes its lines were read as
           string_agg(DISTINCT shape, ',' ORDER BY shape) AS shapes,
           -- durations given with no unit that can be known (left empty, never guessed)
           sum(unknown_unit_durations) AS unknown_unit_durations,
           any_value(unknown_unit_example) AS unknown_unit_example
    FROM source_shapes
    GROUP BY source_id
)
SELECT
    s.source_id, s.path, s.compression, s.bytes_consumed, s.lines_consumed, s.blank_lines,
    s.mapping, s.rules_version,
    coalesce(l.events, 0)::BIGINT AS events, coalesce(l.rejected, 0)::BIGINT AS rejected,
    l.first_event, l.last_event, s.last_ingested_at,
    sh.shapes,
    coalesce(sh.unknown_unit_durations, 0)::BIGINT AS unknown_unit_durations,
    sh.unknown_unit_example
FROM sources s LEFT JOIN lines l USING (source_id) LEFT JOIN shapes sh USING (source_id)
ORDER BY s.last_ingested_at DESC, s.source_id DESC;

-- name: rejects_by_reason
-- Rejected lines counted by reason, most common first (from source_lines).
SELECT reject_reason AS reason, sum(lines) AS lines
FROM source_lines
WHERE kind = 'reject'
GROUP BY reason
ORDER BY lines DESC, reason;

-- name: rejects_sample
-- The first rejected lines, where they are and why (raw text capped), by file and line (and
-- source, for two sources of one path). `triage info` gets the same rows from
-- rejects_of_source_before, without reading every row.
SELECT source_path, line_no, byte_offset, reason, detail, left(raw, 160) AS raw
FROM rejects
ORDER BY source_path, line_no, source_id
LIMIT $limit;

-- name: sources_with_rejects
-- The sources that have rejected lines, by path (as rejects_sample orders them), with how
-- many and the lines read from them (from source_lines: no scan).
SELECT s.source_id, s.path, sum(l.lines)::BIGINT AS rejected, s.lines_consumed
FROM sources s JOIN source_lines l USING (source_id)
WHERE l.kind = 'reject'
GROUP BY s.source_id, s.path, s.lines_consumed
ORDER BY s.path, s.source_id;

-- name: rejects_of_source_before
-- rejects_sample for one source, among its lines before $before only: DuckDB skips the row
-- groups whose lines all come later, so the first rejected lines of a big file are found
-- without reading all of it (store.first_rejects widens $before until it has enough).
SELECT source_path, line_no, byte_offset, reason, detail, left(raw, 160) AS raw
FROM rejects
WHERE source_id = $source_id AND line_no < $before
ORDER BY line_no
LIMIT $limit;

-- name: store_range
-- The time the store's events cover and when it was last ingested, for "not found" answers.
SELECT min(ts) AS first_event, max(ts) AS last_event,
       (SELECT max(last_ingested_at) FROM sources) AS last_ingested_at,
       count(*) AS events
FROM events;

-- name: examples_at
-- The request ids of failed_requests rows named by row id, and where each was logged
-- (`file:line`, what names a row without an id): the examples a report or check picked from
-- staged rows that carry row ids instead of the ids' text.
SELECT f.rowid AS row_id, f.request_id, s.path || ':' || f.line_no AS place
FROM failed_requests f JOIN sources s USING (source_id)
WHERE f.rowid = ANY($row_ids);

-- name: store_contents
-- What a store holds, for saying why it has no requests to show: sources, lines read,
-- events (and requests among them), and rejected lines by reason, most common first.
SELECT
    (SELECT count(*) FROM sources) AS sources,
    (SELECT coalesce(sum(lines_consumed), 0) FROM sources) AS lines,
    count(*) FILTER (WHERE kind <> 'reject') AS events,
    count(*) FILTER (WHERE kind = 'request') AS requests,
    count(*) FILTER (WHERE kind = 'reject') AS rejected,
    (SELECT list(reason || ' ' || n ORDER BY n DESC, reason)
     FROM (SELECT reject_reason AS reason, count(*) AS n FROM records
           WHERE kind = 'reject' GROUP BY ALL)) AS reasons
FROM records;

-- name: last_request_before
-- The time of the latest request at or before $now: a line dated in the future (a clock
-- gone wrong) does not make the report pick a week that has not happened.
SELECT max(ts) FROM events WHERE kind = 'request' AND ts <= $now;

-- name: glance_periods
-- Requests, failures and server errors in the week up to minute $until_minute (exclusive)
-- and in the week before it, from the per-minute roll-up: what the home page of
-- `triage serve` compares. this_week is true for the later week.
SELECT minute >= $split_minute AS this_week,
       sum(requests) AS requests, sum(failures) AS failures, sum(server_errors) AS server_errors
FROM request_minutes
WHERE minute >= $from_minute AND minute < $until_minute
GROUP BY ALL;
