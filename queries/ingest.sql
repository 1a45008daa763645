-- name: define_ingest_macros
-- Temporary macros the ingest statement is built from, one per parsing rule, so each rule is
-- written once. Created on the ingesting connection only.
--
-- record_shape: every field name that the common log shapes use for a normalised column.
-- Values are read as text (VARCHAR) so type drift ("statusCode": "404") never fails a line;
-- nested objects are kept as JSON and parsed again by the macros below. Each name here costs
-- every line a little, so rare spellings (url, body, flattened errorType/errorCode...) are
-- read separately, only on the lines that need them (see ingest_lines).
CREATE OR REPLACE TEMP MACRO parse_record(doc) AS try(json_transform(doc, '{
    "timestamp": "VARCHAR", "@timestamp": "VARCHAR", "time": "VARCHAR", "ts": "VARCHAR",
    "requestId": "VARCHAR", "request_id": "VARCHAR", "req_id": "VARCHAR",
    "service": "VARCHAR", "method": "VARCHAR",
    "path": "VARCHAR", "route": "VARCHAR",
    "statusCode": "VARCHAR", "status_code": "VARCHAR", "status": "VARCHAR",
    "durationMs": "VARCHAR", "duration_ms": "VARCHAR",
    "orgId": "VARCHAR", "org_id": "VARCHAR",
    "apiKeyId": "VARCHAR", "api_key_id": "VARCHAR",
    "userAgent": "VARCHAR", "user_agent": "VARCHAR",
    "clientIp": "VARCHAR", "client_ip": "VARCHAR",
    "level": "VARCHAR", "msg": "VARCHAR", "message": "VARCHAR",
    "log": "VARCHAR",
    "error": "JSON", "response_body": "JSON",
    "request": "JSON", "response": "JSON", "org": "JSON"
}'));

-- The nested request / response / org objects of the nested shapes.
CREATE OR REPLACE TEMP MACRO parse_nested(doc) AS CASE WHEN json_type(doc) = 'OBJECT' THEN
    json_transform(doc, '{
        "id": "VARCHAR", "requestId": "VARCHAR", "request_id": "VARCHAR",
        "method": "VARCHAR", "path": "VARCHAR", "url": "VARCHAR", "route": "VARCHAR",
        "status": "VARCHAR", "statusCode": "VARCHAR", "status_code": "VARCHAR",
        "duration_ms": "VARCHAR", "durationMs": "VARCHAR",
        "user_agent": "VARCHAR", "userAgent": "VARCHAR",
        "client_ip": "VARCHAR", "clientIp": "VARCHAR", "ip": "VARCHAR",
        "body": "JSON"
    }') END;

-- A container wrapper: a line with no request fields of its own whose `log` or `message`
-- string holds a JSON object (the record, which inner_doc_of returns).
CREATE OR REPLACE TEMP MACRO is_bare_wrapper(o) AS
    (starts_with(ltrim(o.log), '{') OR starts_with(ltrim(o.message), '{'))
    AND o.requestId IS NULL AND o.request_id IS NULL AND o.req_id IS NULL
    AND o.method IS NULL AND o.statusCode IS NULL AND o.status IS NULL AND o.request IS NULL;
CREATE OR REPLACE TEMP MACRO inner_doc_of(o) AS CASE
    WHEN starts_with(ltrim(o.log), '{') AND json_valid(o.log) THEN o.log
    WHEN starts_with(ltrim(o.message), '{') AND json_valid(o.message) THEN o.message
END;

-- An error body is an object, or a JSON string holding one (response_body as text).
CREATE OR REPLACE TEMP MACRO as_object(j) AS CASE
    WHEN json_type(j) = 'OBJECT' THEN j
    WHEN json_type(j) = 'VARCHAR' AND starts_with(ltrim(j ->> '$'), '{') AND json_valid(j ->> '$')
        THEN json(j ->> '$')
END;

CREATE OR REPLACE TEMP MACRO parse_error_body(j) AS CASE WHEN j IS NOT NULL THEN
    json_transform(j, '{
        "statusCode": "VARCHAR", "type": "VARCHAR", "code": "VARCHAR",
        "requestId": "VARCHAR", "request_id": "VARCHAR", "message": "VARCHAR"
    }') END;

-- Timestamps: ISO-8601 with or without a zone (naive means UTC: the session runs in UTC), or
-- epoch seconds / milliseconds / microseconds / nanoseconds told apart by magnitude.
-- A value out of range, or infinity, is no time at all (the line becomes a bad_timestamp).
CREATE OR REPLACE TEMP MACRO epoch_ts(t) AS try(CASE
    WHEN abs(t::DOUBLE) >= 1e17 THEN to_timestamp(t::DOUBLE / 1e9)
    WHEN abs(t::DOUBLE) >= 1e14 THEN to_timestamp(t::DOUBLE / 1e6)
    WHEN abs(t::DOUBLE) >= 1e11 THEN to_timestamp(t::DOUBLE / 1e3)
    ELSE to_timestamp(t::DOUBLE)
END);
CREATE OR REPLACE TEMP MACRO finite_ts(v) AS CASE WHEN isfinite(v) THEN v END;
CREATE OR REPLACE TEMP MACRO finite_or_null(x) AS CASE WHEN isfinite(x) THEN x END;
CREATE OR REPLACE TEMP MACRO parse_ts(t) AS finite_ts(CASE
    WHEN regexp_full_match(t, '-?[0-9]+(\.[0-9]+)?') THEN epoch_ts(t)
    ELSE try_cast(t AS TIMESTAMPTZ)
END);

-- A route is the path with ids replaced by {id}: UUIDs, numbers, prefixed ids (inc_01jq…,
-- org_2abc…: a lower-case prefix, '_', then letters and digits with at least one digit), long
-- hex strings and ULIDs. The query string is dropped; a full URL loses its scheme and host.
-- An id segment is replaced with the '/' before it and the '/' or end after it; a match uses
-- up that '/', so a second pass catches the id right after another (up to three in a row).
CREATE OR REPLACE TEMP MACRO path_only(p) AS
    split_part(split_part(regexp_replace(p, '^[A-Za-z][A-Za-z0-9+.-]*://[^/]*', ''), '?', 1), '#', 1);
CREATE OR REPLACE TEMP MACRO id_segments_once(p) AS regexp_replace(p,
    '/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
    || '|[0-9]+|[a-z]{2,12}_[A-Za-z0-9]*[0-9][A-Za-z0-9]*|[0-9a-fA-F]{16,}|[0-9A-HJKMNP-TV-Z]{26})(/|$)',
    '/{id}\2', 'g');
CREATE OR REPLACE TEMP MACRO route_of(p) AS id_segments_once(id_segments_once(path_only(p)));

-- A mapping-file rule: the value at a JSON path, optionally cut by a regex (first group).
CREATE OR REPLACE TEMP MACRO mapped(doc, path, rx) AS CASE
    WHEN path IS NULL THEN NULL
    WHEN rx IS NULL THEN json_extract_string(doc, path)
    ELSE nullif(regexp_extract(json_extract_string(doc, path), rx, 1), '')
END;

-- name: ingest_lines
-- Parse, normalise and classify every line of the Arrow stream registered as `lines_in`
-- (text VARCHAR or, for blocks that are not UTF-8, raw BLOB; line_no; byte_offset) and
-- append one row per non-blank line to
-- `records`: an event, or a reject with its reason. Blank and whitespace-only lines are
-- dropped here and counted by the caller. $m_* / $rx_* are a mapping file's rules (NULL
-- without one). Each line's JSON is parsed once; nested parts are parsed only where present.
INSERT INTO records
WITH decoded AS (
    SELECT line_no, byte_offset, raw, coalesce(strlen(text), octet_length(raw)) AS n_bytes,
           coalesce(text, try(decode(raw))) AS body  -- NULL when the bytes are not UTF-8
    FROM lines_in
), nonblank AS (
    SELECT * FROM decoded
    WHERE CASE WHEN n_bytes = 0 THEN false
               WHEN body IS NULL OR starts_with(body, '{') THEN true
               ELSE trim(body, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)) <> '' END
), parsed AS (
    SELECT *, CASE WHEN n_bytes <= $max_line_bytes THEN parse_record(body) END AS outer_rec
    FROM nonblank
), unwrapped AS (
    -- Container wrappers (Docker's and Fluent Bit's `log`, CloudWatch's `message`): when a
    -- line has no request fields of its own and its log or message string holds a JSON
    -- object, the record is that object. The wrapper's own time, service, level and message
    -- fill in what the record leaves out.
    SELECT *, CASE WHEN is_bare_wrapper(outer_rec) THEN inner_doc_of(outer_rec) END AS inner_doc
    FROM parsed
), reparsed AS (
    SELECT *, coalesce(inner_doc, body) AS doc,
           CASE WHEN inner_doc IS NULL THEN outer_rec ELSE parse_record(inner_doc) END AS r
    FROM unwrapped
), shaped AS (
    SELECT *, parse_nested(r.request) AS req, parse_nested(r.response) AS resp,
           parse_nested(r.org) AS org
    FROM reparsed
), statused AS (
    SELECT *,
        try_cast(coalesce(mapped(doc, $m_status, $rx_status), r.statusCode, r.status_code,
                          CASE WHEN regexp_full_match(r.status, '[0-9]{3}') THEN r.status END,
                          resp.status, resp.statusCode, resp.status_code) AS SMALLINT) AS status
    FROM shaped
), fields AS (
    SELECT *,
        coalesce(mapped(doc, $m_timestamp, $rx_timestamp),
                 r.timestamp, r."@timestamp", r.time, r.ts,
                 outer_rec.timestamp, outer_rec."@timestamp", outer_rec.time, outer_rec.ts) AS ts_text,
        parse_error_body(coalesce(
            as_object(r.error), as_object(resp.body), as_object(r.response_body),
            -- a `body` holding the error: looked for only on failures that have none of the above
            CASE WHEN status >= 400 AND r.error IS NULL AND resp.body IS NULL
                      AND r.response_body IS NULL
                 THEN as_object(json_extract(doc, '$.body')) END)) AS err
    FROM statused
), flat_errors AS (
    -- flattened error fields (errorType / error_code ...), read only where there is no error
    -- body: on failed requests and on trace lines (which may name the code they hit)
    SELECT *,
        CASE WHEN r IS NOT NULL AND err IS NULL
                  AND (status >= 400 OR (status IS NULL AND r.method IS NULL))
             THEN json_extract_string(doc, ['$.errorType', '$.error_type', '$.errorCode',
                                            '$.error_code', '$.errorMessage', '$.error_message'])
        END AS flat
    FROM fields
), normalised AS (
    SELECT *,
        CASE WHEN $ts_format IS NOT NULL
             THEN finite_ts(try_strptime(ts_text, $ts_format)::TIMESTAMPTZ)
             ELSE parse_ts(ts_text) END AS ts_value,
        coalesce(mapped(doc, $m_request_id, $rx_request_id),
                 r.requestId, r.request_id, r.req_id,
                 req.id, req.requestId, req.request_id, err.requestId, err.request_id) AS request_id,
        coalesce(mapped(doc, $m_service, $rx_service), r.service, outer_rec.service) AS service,
        upper(coalesce(mapped(doc, $m_method, $rx_method), r.method, req.method)) AS method,
        coalesce(mapped(doc, $m_path, $rx_path), r.path, req.path, req.url,
                 CASE WHEN r.method IS NOT NULL OR req.method IS NOT NULL
                      THEN json_extract_string(doc, '$.url') END) AS path_text,
        coalesce(mapped(doc, $m_route, $rx_route), r.route, req.route) AS route_text,
        -- NaN or Infinity is no duration (and no JSON number to print later): NULL
        finite_or_null(try_cast(coalesce(mapped(doc, $m_duration_ms, $rx_duration_ms),
                                         r.durationMs, r.duration_ms, resp.duration_ms,
                                         resp.durationMs) AS DOUBLE)
                       * coalesce($duration_scale, 1)) AS duration_ms,
        coalesce(mapped(doc, $m_org_id, $rx_org_id), r.orgId, r.org_id, org.id) AS org_id,
        coalesce(mapped(doc, $m_api_key_id, $rx_api_key_id), r.apiKeyId, r.api_key_id) AS api_key_id,
        coalesce(mapped(doc, $m_user_agent, $rx_user_agent), r.userAgent, r.user_agent,
                 req.user_agent, req.userAgent) AS user_agent,
        coalesce(mapped(doc, $m_client_ip, $rx_client_ip), r.clientIp, r.client_ip,
                 req.client_ip, req.clientIp, req.ip) AS client_ip,
        coalesce(r.level, outer_rec.level) AS level,
        coalesce(mapped(doc, $m_message, $rx_message), r.msg, r.message,
                 outer_rec.msg, outer_rec.message, rtrim(outer_rec.log, chr(13) || chr(10))) AS message,
        coalesce(mapped(doc, $m_error_type, $rx_error_type), err.type, flat[1], flat[2]) AS error_type,
        coalesce(mapped(doc, $m_error_code, $rx_error_code), err.code, flat[3], flat[4]) AS error_code,
        coalesce(mapped(doc, $m_error_message, $rx_error_message), err.message, flat[5], flat[6],
                 CASE WHEN json_type(r.error) = 'VARCHAR' THEN r.error ->> '$' END) AS error_message
    FROM flat_errors
), classified AS (
    SELECT *,
        CASE
            WHEN n_bytes > $max_line_bytes THEN 'too_long'
            WHEN body IS NULL THEN 'invalid_utf8'
            WHEN outer_rec IS NULL OR NOT starts_with(ltrim(body), '{') THEN
                CASE WHEN json_valid(body) THEN 'not_an_object' ELSE 'invalid_json' END
            WHEN ts_text IS NULL THEN 'no_timestamp'
            WHEN ts_value IS NULL THEN 'bad_timestamp'
        END AS reason
    FROM normalised
)
SELECT
    $source_id AS source_id, line_no, byte_offset,
    CASE WHEN reason IS NOT NULL THEN 'reject'
         WHEN status IS NOT NULL OR method IS NOT NULL THEN 'request'
         WHEN request_id IS NOT NULL THEN 'trace'
         ELSE 'log' END AS kind,
    reason AS reject_reason,
    -- a rejected line keeps what could be read of it (a request id helps find it)
    ts_value AS ts, request_id, service, method, path_text AS path,
    CASE WHEN route_text IS NULL THEN route_of(path_text)
         WHEN contains(route_text, '?') OR contains(route_text, '://') THEN path_only(route_text)
         ELSE route_text END AS route,
    status, duration_ms, org_id, api_key_id, user_agent, client_ip, level, message,
    err IS NOT NULL AS has_error_body,
    error_type, error_code, error_message,
    err.statusCode AS error_status,
    coalesce(err.requestId, err.request_id) AS error_request_id,
    -- the raw line for everything but plain successes, capped at 64 KiB
    CASE
        WHEN reason IS NULL AND status < 400 AND err IS NULL AND error_type IS NULL THEN NULL
        WHEN body IS NULL THEN left(raw[1:65536]::VARCHAR, 65536)
        WHEN n_bytes <= 65536 THEN body
        ELSE left(body, 65536)
    END AS raw,
    (hash(request_id) >> 32)::UINTEGER AS rid_hash  -- what lookups filter first
FROM classified;

-- name: ingest_counts
-- What one ingest added from one source: rows by kind and rejects by reason.
SELECT kind, coalesce(reject_reason, '') AS reason, count(*) AS n
FROM records
WHERE source_id = $source_id AND line_no > $after_line
GROUP BY ALL;

-- name: find_sources_by_head
-- Sources whose identity (hash of their first head_len bytes) matches a file's head.
-- The caller passes the candidate (head_len, sha256) pairs it computed from the file.
SELECT source_id, path, compression, head_len, head_sha256, tail_sha256,
       bytes_consumed, lines_consumed, blank_lines
FROM sources
WHERE list_contains($heads, head_len::VARCHAR || ':' || head_sha256)
ORDER BY (path = $path) DESC, bytes_consumed DESC;

-- name: head_lengths
-- The distinct head lengths that identify stored sources (most are the full 1 KiB).
SELECT DISTINCT head_len FROM sources ORDER BY head_len;

-- name: insert_source
-- Register a new source; its first ingest commits with it.
INSERT INTO sources VALUES (
    nextval('source_id_seq'), $path, $compression, $head_len, $head_sha256, $tail_sha256,
    $bytes_consumed, $lines_consumed, $blank_lines, now(), now()
) RETURNING source_id;

-- name: update_source
-- Move a source's offset forward after an ingest, in the same transaction as its rows.
UPDATE sources SET
    path = $path, compression = $compression, head_len = $head_len, head_sha256 = $head_sha256,
    tail_sha256 = $tail_sha256, bytes_consumed = $bytes_consumed,
    lines_consumed = $lines_consumed, blank_lines = $blank_lines, last_ingested_at = now()
WHERE source_id = $source_id;

-- name: configure_ingest
-- Ingest writes rows in any order: each row carries its own line number and byte offset.
-- DuckDB's memory is capped so that a file of any size ingests in bounded memory (a file's
-- uncommitted rows spill to disk rather than grow the process).
SET preserve_insertion_order = false;
SET memory_limit = '512MB';
