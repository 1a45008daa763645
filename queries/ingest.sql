-- name: define_ingest_macros
-- Temporary macros the ingest statement is built from, one per parsing rule, so each rule is
-- written once. Created on the ingesting connection only.
--
-- The line, if it can be JSON. A truncated line must never reach json_transform: it would
-- fail the statement (parse_records_quickly), or under try() fail its whole vector of 2,048
-- lines, which try() then parses one by one (a log with 0.1% broken lines parsed eight times
-- slower). An object that starts and ends with its braces is let through unchecked; anything
-- else is checked by json_valid (blanks around it, a bare value, a cut-off line).
CREATE OR REPLACE TEMP MACRO json_text(doc) AS CASE
    WHEN starts_with(doc, '{') AND ends_with(doc, '}') THEN doc
    WHEN json_valid(doc) THEN doc
END;

-- record_fields: every field name that the common log shapes use for a normalised column.
-- Values are read as text (VARCHAR) so type drift ("statusCode": "404") never fails a line;
-- nested objects are kept as JSON and parsed again by the macros below. Each name here costs
-- every line a little, so rare spellings (url, body, a flattened errorMessage...) are
-- read separately, only on the lines that need them (see ingest_lines). parse_record reads
-- them (parse_records_quickly, parse_records_carefully).
CREATE OR REPLACE TEMP MACRO record_fields() AS '{
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
    "errorType": "VARCHAR", "error_type": "VARCHAR", "errorCode": "VARCHAR", "error_code": "VARCHAR",
    "log": "JSON",
    "error": "JSON", "response_body": "JSON",
    "request": "JSON", "response": "JSON", "org": "JSON"
}';

-- A value that is there: an empty text is no value (the next candidate is taken). Not
-- trimmed: the candidates are expanded into every place the chosen value is used, and
-- a trim of each on every line costs more than the rare blank value is worth.
CREATE OR REPLACE TEMP MACRO present(t) AS nullif(t, '');

-- A shape's value (queries/shapes.sql), asked for only on a line read in a shape. Most lines
-- have none: a CASE that selects no line of a vector costs next to nothing, while a field
-- of the NULL struct is still worked through line by line in each coalesce it is a
-- candidate of (unguarded, these cost the ingest of our own flat lines 6% of its CPU time).
CREATE OR REPLACE TEMP MACRO if_shaped(shape, value) AS CASE WHEN shape IS NOT NULL THEN value END;

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

-- A line the general rule cannot read: no time of its own, or nothing that makes it a
-- request or a trace (the third-party shapes are tried on it, queries/shapes.sql).
CREATE OR REPLACE TEMP MACRO general_misses(o) AS
    (o.timestamp IS NULL AND o."@timestamp" IS NULL AND o.time IS NULL AND o.ts IS NULL)
    OR (o.statusCode IS NULL AND o.status_code IS NULL AND o.status IS NULL AND o.method IS NULL
        AND o.requestId IS NULL AND o.request_id IS NULL AND o.req_id IS NULL AND o.request IS NULL);

-- A container wrapper (Docker's and Fluent Bit's `log`, CloudWatch's `message`): a line with
-- no request fields of its own whose `log` or `message` text is a record. That text looks
-- like a record when it starts with '{', or with '[' and is JSON or starts like an array of
-- records ('[{', '[[', '["'): plain text such as "[INFO] started" stays a log message.
CREATE OR REPLACE TEMP MACRO looks_like_record(t) AS
    starts_with(ltrim(t), '{')
    OR (starts_with(ltrim(t), '[') AND (json_valid(t) OR regexp_matches(t, '^\s*\[\s*[\[{"]')));
-- A wrapper's `log` is text (ECS writes a `log` *object*, {"level": ...}, which is no wrapper).
CREATE OR REPLACE TEMP MACRO log_text(o) AS CASE WHEN json_type(o.log) = 'VARCHAR' THEN o.log ->> '$' END;
CREATE OR REPLACE TEMP MACRO is_wrapper(o) AS
    o.requestId IS NULL AND o.request_id IS NULL AND o.req_id IS NULL
    AND o.method IS NULL AND o.statusCode IS NULL AND o.status IS NULL AND o.request IS NULL;
CREATE OR REPLACE TEMP MACRO wrapped_text(o) AS CASE WHEN is_wrapper(o) THEN
    CASE WHEN looks_like_record(log_text(o)) THEN log_text(o)
         WHEN looks_like_record(o.message) THEN o.message END
END;
-- The record a wrapper holds, when its text is a JSON object (else the line is rejected as
-- the same text would be at top level: invalid_json or not_an_object).
CREATE OR REPLACE TEMP MACRO json_object_text(t) AS
    CASE WHEN json_valid(t) THEN CASE WHEN json_type(t) = 'OBJECT' THEN t END END;
CREATE OR REPLACE TEMP MACRO json_reject_reason(t) AS
    CASE WHEN json_valid(t) THEN 'not_an_object' ELSE 'invalid_json' END;

-- A line that is not valid UTF-8, repaired as Loki does: every byte that is not part of a
-- valid UTF-8 sequence becomes U+FFFD. It works on the bytes' escaped text form (BLOB to
-- VARCHAR), where every byte outside printable ASCII reads \xNN and a backslash itself
-- \x5C: the valid 4-, 3- and 2-byte sequences are marked (\x to \y), every other high byte
-- is replaced by EF BF BD, the marks are undone and the text is cast back to bytes. Should
-- DuckDB still refuse the result (an overlong form or a surrogate passes the marking),
-- every high byte is replaced instead. NULL only when neither can be decoded.
CREATE OR REPLACE TEMP MACRO marked_utf8(e) AS
    regexp_replace(regexp_replace(regexp_replace(e,
        '\\x(F[0-4])\\x([89AB][0-9A-F])\\x([89AB][0-9A-F])\\x([89AB][0-9A-F])',
        '\\y\1\\y\2\\y\3\\y\4', 'g'),
        '\\x(E[0-9A-F])\\x([89AB][0-9A-F])\\x([89AB][0-9A-F])', '\\y\1\\y\2\\y\3', 'g'),
        '\\x(C[2-9A-F]|D[0-9A-F])\\x([89AB][0-9A-F])', '\\y\1\\y\2', 'g');
CREATE OR REPLACE TEMP MACRO high_bytes_replaced(e) AS
    regexp_replace(e, '\\x[89A-F][0-9A-F]', '\\xEF\\xBF\\xBD', 'g');
CREATE OR REPLACE TEMP MACRO repair_utf8(b) AS coalesce(
    try(decode(replace(high_bytes_replaced(marked_utf8(b::VARCHAR)), '\y', '\x')::BLOB)),
    try(decode(high_bytes_replaced(b::VARCHAR)::BLOB)));

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
-- Eight or fourteen digits are a basic ISO date or date-time (20261110, 20261110143000)
-- where they read as one, not seconds in 1970. A value out of range, or infinity, is no
-- time at all (the line becomes a bad_timestamp).
CREATE OR REPLACE TEMP MACRO epoch_ts(t) AS try(CASE
    WHEN abs(t::DOUBLE) >= 1e17 THEN to_timestamp(t::DOUBLE / 1e9)
    WHEN abs(t::DOUBLE) >= 1e14 THEN to_timestamp(t::DOUBLE / 1e6)
    WHEN abs(t::DOUBLE) >= 1e11 THEN to_timestamp(t::DOUBLE / 1e3)
    ELSE to_timestamp(t::DOUBLE)
END);
CREATE OR REPLACE TEMP MACRO finite_ts(v) AS CASE WHEN isfinite(v) THEN v END;
CREATE OR REPLACE TEMP MACRO finite_or_null(x) AS CASE WHEN isfinite(x) THEN x END;
CREATE OR REPLACE TEMP MACRO basic_iso_ts(t) AS CASE
    WHEN length(t) = 8 THEN try_strptime(t, '%Y%m%d')
    WHEN length(t) = 14 THEN try_strptime(t, '%Y%m%d%H%M%S')
END::TIMESTAMPTZ;
-- (A time with a ':' is never a number, and only one with a '/' can be a CLF time: the
-- common ISO time pays neither regex.)
CREATE OR REPLACE TEMP MACRO parse_ts(t) AS finite_ts(CASE
    WHEN contains(t, ':') AND NOT contains(t, '/') THEN try_cast(t AS TIMESTAMPTZ)
    WHEN regexp_full_match(t, '-?[0-9]+(\.[0-9]+)?') THEN coalesce(basic_iso_ts(t), epoch_ts(t))
    WHEN regexp_matches(t, '^[0-9]{1,2}/[A-Za-z]{3}/') THEN clf_ts(t)
    ELSE try_cast(t AS TIMESTAMPTZ)
END);

-- A route is the path with ids replaced by {id}: UUIDs, numbers, prefixed ids (inc_01jq…,
-- org_2abc…: a lower-case prefix, '_', then letters and digits with at least one digit), long
-- hex strings and ULIDs (26 characters of Crockford's base32 in either case, the first 0-7).
-- The query string is dropped; a full URL loses its scheme and host.
CREATE OR REPLACE TEMP MACRO path_only(p) AS
    split_part(split_part(CASE WHEN contains(p, '://')
                               THEN regexp_replace(p, '^[A-Za-z][A-Za-z0-9+.-]*://[^/]*', '')
                               ELSE p END, '?', 1), '#', 1);
-- An id is a whole segment: a '/' before it and a '/' or the end after it. Every '/' is
-- doubled and one is added at the end, so each segment has a '/' of its own on either side
-- and a match uses up only its own: ids in a row are all replaced in one pass, by a pattern
-- with no capture group (RE2 finds those with its DFA alone, about twice as fast as a
-- pattern it must capture). The pairs are then halved and the added '/' dropped.
CREATE OR REPLACE TEMP MACRO id_segments(p) AS left(replace(regexp_replace(
    replace(p, '/', '//') || '/',
    '/(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
    || '|[0-9]+|[a-z]{2,12}_[A-Za-z0-9]*[0-9][A-Za-z0-9]*|[0-9a-fA-F]{16,}'
    || '|[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25})/',
    '/{id}/', 'g'), '//', '/'), -1);
CREATE OR REPLACE TEMP MACRO route_of(p) AS id_segments(path_only(p));

-- A mapping-file rule: the value at a JSON path, optionally cut by a regex (first group).
-- A line that is not JSON has no value (it is rejected for that, not failing the file).
CREATE OR REPLACE TEMP MACRO mapped(doc, path, rx) AS CASE WHEN path IS NOT NULL THEN
    -- the value is named once (a lambda parameter): see the note on macro arguments in shapes.sql
    list_transform([try(json_extract_string(json_text(doc), path))],
                   lambda v: CASE WHEN rx IS NULL THEN v ELSE nullif(regexp_extract(v, rx, 1), '') END)[1]
END;

-- name: parse_records_quickly
-- How ingest_lines parses a line's JSON: json_text keeps truncated lines out, so no try() is
-- needed, and try() costs a fifth of the parse even when nothing fails. A line that still
-- fails (an object broken inside its braces) fails the statement; the file is then read
-- again with parse_records_carefully (triage/ingest.py).
CREATE OR REPLACE TEMP MACRO parse_record(doc) AS json_transform(json_text(doc), record_fields());

-- name: parse_records_carefully
-- parse_record for a file with a line that is broken inside its braces: that line's record is
-- NULL (it is rejected as invalid_json), and only the vector of lines it is in is parsed one
-- line at a time.
CREATE OR REPLACE TEMP MACRO parse_record(doc) AS try(json_transform(json_text(doc), record_fields()));

-- name: ingest_lines
-- Parse, normalise and classify every line of the Arrow stream registered as `lines_in`
-- (text VARCHAR or, for blocks that are not UTF-8, raw BLOB; line_no; byte_offset; shapes,
-- the third-party shapes its block holds, triage/shapes.py) and
-- append one row per non-blank line to `records`: an event, or a reject with its reason.
-- Blank and whitespace-only lines are dropped here (the reader counts them). $m_* / $rx_*
-- are a mapping file's rules (NULL without one). Each line's JSON is parsed once; nested
-- parts are parsed only where present.
INSERT INTO records BY NAME
WITH decoded AS (
    -- text arrives as text; a block that is not UTF-8 arrives as bytes, decoded line by line:
    -- a bad byte is not a lost request, so a line that does not decode is repaired (invalid
    -- bytes become U+FFFD) and kept, flagged
    SELECT line_no, byte_offset, raw, shapes, coalesce(strlen(text), octet_length(raw)) AS n_bytes,
           coalesce(text, try(decode(raw))) IS NULL AS was_repaired,
           coalesce(text, try(decode(raw)),
                    CASE WHEN octet_length(raw) <= $max_line_bytes THEN repair_utf8(raw) END)
               AS body
    FROM lines_in
), nonblank AS (
    SELECT * FROM decoded
    WHERE CASE WHEN n_bytes = 0 THEN false
               WHEN body IS NULL OR starts_with(body, '{') THEN true
               ELSE trim(body, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)) <> '' END
), texted AS (
    -- a line that does not start like JSON is a text access log (CLF, combined, logfmt),
    -- read by regular expressions into the record a JSON line would be
    -- (queries/text_formats.sql), or an unrecognised_text reject
    -- (a JSON value that is not an object, 42 or "text", is JSON: not_an_object). A CASE,
    -- not AND: in a projection DuckDB evaluates every operand of an AND on every row, and a
    -- JSON line must not pay a regex and a second parse here
    SELECT *, CASE WHEN starts_with(body, '{') THEN false
                   WHEN regexp_matches(body, '^\s*[\[{]') THEN false
                   ELSE NOT json_valid(body) END AS is_text
    FROM nonblank
), json_parsed AS (
    SELECT *, CASE WHEN NOT is_text AND n_bytes <= $max_line_bytes THEN parse_record(body) END
                  AS json_rec
    FROM texted
), wrapping AS (
    SELECT *, wrapped_text(json_rec) AS wrapped FROM json_parsed
), text_read AS (
    -- the text a line holds in a text format: the line itself, or the text in a container
    -- wrapper's `log` (ingress-nginx's combined lines under Kubernetes' json-file driver).
    -- text_record is written once in the statement: it is large to bind, per file
    SELECT *, CASE WHEN text_src IS NOT NULL THEN text_record(text_src)::VARCHAR END AS any_text_doc
    FROM (SELECT *, CASE WHEN is_text AND n_bytes <= $max_line_bytes THEN body
                         WHEN wrapped IS NULL AND json_rec IS NOT NULL AND is_wrapper(json_rec)
                             THEN rtrim(log_text(json_rec), chr(13) || chr(10)) END AS text_src
          FROM wrapping)
), parsed AS (
    SELECT *, CASE WHEN is_text THEN any_text_doc END AS text_doc FROM text_read
), unwrapped AS (
    -- A container wrapper's record is the object in its text, or the record its access line
    -- reads as; the wrapper's own time, service, level and message fill in what the record
    -- leaves out.
    SELECT *, coalesce(json_object_text(wrapped), CASE WHEN NOT is_text THEN any_text_doc END)
                  AS inner_doc
    FROM parsed
), reparsed AS (
    SELECT *, coalesce(inner_doc, text_doc, body) AS doc,
           -- (one CASE over the record: each copies the whole struct, on every line)
           CASE WHEN inner_doc IS NULL AND NOT is_text THEN json_rec
                ELSE parse_record(coalesce(inner_doc, text_doc)) END AS r
    FROM unwrapped
), line_shapes AS (
    -- a third-party shape (queries/shapes.sql): one its block was seen to hold, or any, for a
    -- line the general rule cannot read (no time, or nothing that makes it a request)
    SELECT *, CASE WHEN shape_flags <> 0 THEN line_shape(body, shape_flags) END AS shape
    FROM (SELECT *, CASE WHEN r IS NULL THEN 0
                         WHEN general_misses(r) THEN any_shape()
                         ELSE shapes END AS shape_flags
          FROM reparsed)
), shape_values AS (
    SELECT *, CASE WHEN shape IS NOT NULL THEN shape_values(shape, doc) END AS v FROM line_shapes
), shape_read AS (
    SELECT *, CASE WHEN shape IS NOT NULL THEN shape_fields(shape, v) END AS s FROM shape_values
), mapping_read AS (
    -- a mapping file's rules, each read once (NULL without a mapping)
    SELECT *,
           mapped(doc, $m_status, $rx_status) AS m_status,
           mapped(doc, $m_timestamp, $rx_timestamp) AS m_timestamp,
           mapped(doc, $m_request_id, $rx_request_id) AS m_request_id,
           mapped(doc, $m_service, $rx_service) AS m_service,
           mapped(doc, $m_method, $rx_method) AS m_method,
           mapped(doc, $m_path, $rx_path) AS m_path,
           mapped(doc, $m_route, $rx_route) AS m_route,
           mapped(doc, $m_duration_ms, $rx_duration_ms) AS m_duration_ms,
           mapped(doc, $m_org_id, $rx_org_id) AS m_org_id,
           mapped(doc, $m_api_key_id, $rx_api_key_id) AS m_api_key_id,
           mapped(doc, $m_user_agent, $rx_user_agent) AS m_user_agent,
           mapped(doc, $m_client_ip, $rx_client_ip) AS m_client_ip,
           mapped(doc, $m_message, $rx_message) AS m_message,
           mapped(doc, $m_error_type, $rx_error_type) AS m_error_type,
           mapped(doc, $m_error_code, $rx_error_code) AS m_error_code,
           mapped(doc, $m_error_message, $rx_error_message) AS m_error_message
    FROM shape_read
), shaped AS (
    SELECT *, parse_nested(r.request) AS req, parse_nested(r.response) AS resp,
           parse_nested(r.org) AS org
    FROM mapping_read
), statused AS (
    SELECT *,
        try_cast(coalesce(m_status, if_shaped(shape, s.status), r.statusCode, r.status_code,
                          CASE WHEN regexp_full_match(r.status, '[0-9]{3}') THEN r.status END,
                          resp.status, resp.statusCode, resp.status_code) AS SMALLINT) AS status
    FROM shaped
), fields AS (
    SELECT *,
        present(m_timestamp) AS mapped_ts_text,
        coalesce(present(m_timestamp), present(if_shaped(shape, s.ts_text)),
                 present(r.timestamp), present(r."@timestamp"), present(r.time), present(r.ts),
                 present(json_rec.timestamp), present(json_rec."@timestamp"),
                 present(json_rec.time), present(json_rec.ts)) AS ts_text,
        parse_error_body(coalesce(
            as_object(r.error), as_object(resp.body), as_object(r.response_body),
            -- a `body` holding the error: looked for only on failures that have none of the above
            CASE WHEN status >= 400 AND r.error IS NULL AND resp.body IS NULL
                      AND r.response_body IS NULL
                 THEN as_object(json_extract(doc, '$.body')) END)) AS err
    FROM statused
), flat_named AS (
    -- flattened error fields (errorType / error_code ...) where there is no error body, on
    -- any line: a 2xx that names an error is a finding too. An empty flattened type is no
    -- type; an empty code counts only beside a type (validation_error may have an empty
    -- code), so `"error_code": ""` alone is no error
    SELECT *, CASE WHEN err IS NULL THEN present(coalesce(r.errorType, r.error_type)) END
                  AS flat_type,
           CASE WHEN err IS NOT NULL THEN NULL
                WHEN present(coalesce(r.errorType, r.error_type)) IS NOT NULL
                    THEN coalesce(r.errorCode, r.error_code)
                ELSE present(coalesce(r.errorCode, r.error_code)) END AS flat_code
    FROM fields
), flat_errors AS (
    -- their message is looked for only beside them
    SELECT *, CASE WHEN flat_type IS NOT NULL OR flat_code IS NOT NULL
                   THEN json_extract_string(doc, ['$.errorMessage', '$.error_message']) END
                  AS flat_message
    FROM flat_named
), normalised AS (
    SELECT *,
        -- a mapping's format reads its own field; a line without that field falls back
        -- to the automatic reading, whose times are told apart by their shape
        CASE WHEN $ts_format IS NOT NULL AND mapped_ts_text IS NOT NULL
             THEN finite_ts(try_strptime(mapped_ts_text, $ts_format)::TIMESTAMPTZ)
             ELSE parse_ts(ts_text) END AS ts_value,
        -- an empty id is no id: the next candidate (the error body's requestId) is used
        coalesce(present(m_request_id), present(if_shaped(shape, s.request_id)),
                 present(r.requestId), present(r.request_id), present(r.req_id),
                 present(req.id), present(req.requestId), present(req.request_id),
                 present(err.requestId), present(err.request_id)) AS request_id,
        coalesce(m_service, if_shaped(shape, s.service), r.service, json_rec.service)
            AS service,
        upper(coalesce(m_method, if_shaped(shape, s.method), r.method, req.method)) AS method,
        -- a top-level url is read only on request lines (status or method), before request.url
        coalesce(m_path, if_shaped(shape, s.path), r.path, req.path,
                 CASE WHEN r.method IS NOT NULL OR req.method IS NOT NULL OR status IS NOT NULL
                      THEN json_extract_string(doc, '$.url') END,
                 req.url) AS path_text,
        -- a route is text (Kong's `route` is a config object, no route)
        coalesce(m_route, if_shaped(shape, s.route),
                 CASE WHEN NOT starts_with(r.route, '{') THEN r.route END,
                 CASE WHEN NOT starts_with(req.route, '{') THEN req.route END) AS route_text,
        -- NaN or Infinity is no duration (and no JSON number to print later): NULL. A
        -- mapping's scale applies to its own field only.
        coalesce(finite_or_null(try_cast(m_duration_ms AS DOUBLE)
                                * coalesce($duration_scale, 1)),
                 finite_or_null(if_shaped(shape, s.duration_ms)),
                 finite_or_null(try_cast(coalesce(r.durationMs, r.duration_ms, resp.duration_ms,
                                                  resp.durationMs) AS DOUBLE))) AS duration_ms,
        coalesce(m_org_id, r.orgId, r.org_id, org.id) AS org_id,
        coalesce(m_api_key_id, r.apiKeyId, r.api_key_id) AS api_key_id,
        coalesce(m_user_agent, if_shaped(shape, s.user_agent), r.userAgent, r.user_agent,
                 req.user_agent, req.userAgent) AS user_agent,
        coalesce(m_client_ip, if_shaped(shape, s.client_ip), r.clientIp, r.client_ip,
                 req.client_ip, req.clientIp, req.ip) AS client_ip,
        coalesce(if_shaped(shape, s.level), r.level, json_rec.level) AS level,
        coalesce(m_message, if_shaped(shape, s.message), r.msg, r.message,
                 json_rec.msg, json_rec.message, rtrim(log_text(json_rec), chr(13) || chr(10)))
            AS message,
        coalesce(m_error_type, err.type, if_shaped(shape, s.error_type), flat_type)
            AS error_type,
        coalesce(m_error_code, err.code, if_shaped(shape, s.error_code), flat_code)
            AS error_code,
        coalesce(m_error_message, err.message, if_shaped(shape, s.error_message),
                 flat_message[1], flat_message[2],
                 CASE WHEN json_type(r.error) = 'VARCHAR' THEN r.error ->> '$' END) AS error_message
    FROM flat_errors
), classified AS (
    SELECT *,
        CASE
            WHEN n_bytes > $max_line_bytes THEN 'too_long'
            WHEN body IS NULL THEN 'invalid_utf8'
            WHEN is_text AND text_doc IS NULL THEN 'unrecognised_text'
            -- (ltrim copies the line: only for the rare line that starts with a blank)
            WHEN NOT is_text AND (json_rec IS NULL OR (NOT starts_with(body, '{')
                                                       AND NOT starts_with(ltrim(body), '{')))
                THEN json_reject_reason(body)
            -- a wrapper whose record is cut short or not an object hides a lost request
            WHEN wrapped IS NOT NULL AND inner_doc IS NULL THEN json_reject_reason(wrapped)
            WHEN ts_text IS NULL THEN 'no_timestamp'
            WHEN ts_value IS NULL THEN 'bad_timestamp'
        END AS reason,
        CASE WHEN err IS NOT NULL THEN 'body'
             WHEN present(error_type) IS NOT NULL OR present(error_code) IS NOT NULL THEN 'fields'
             ELSE 'none' END AS error_source
    FROM normalised
)
SELECT
    $source_id AS source_id, line_no, byte_offset,
    CASE WHEN reason IS NOT NULL THEN 'reject'
         WHEN status IS NOT NULL OR method IS NOT NULL THEN 'request'
         WHEN request_id IS NOT NULL THEN 'trace'
         ELSE 'log' END AS kind,
    reason AS reject_reason,
    CASE WHEN reason IS NOT NULL AND wrapped IS NOT NULL AND inner_doc IS NULL
         THEN 'inside a container wrapper' END AS reject_detail,
    -- a rejected line keeps what could be read of it (a request id helps find it)
    ts_value AS ts, request_id, service, method, path_text AS path,
    CASE WHEN route_text IS NULL THEN route_of(path_text)
         WHEN contains(route_text, '?') OR contains(route_text, '://') THEN path_only(route_text)
         ELSE route_text END AS route,
    status, duration_ms,
    -- a duration whose unit cannot be known is kept as written, never guessed (info says so)
    CASE WHEN duration_ms IS NOT NULL THEN NULL
         WHEN text_doc IS NOT NULL OR (wrapped IS NULL AND inner_doc IS NOT NULL)
             THEN coalesce(text_doc, inner_doc) ->> '$.duration_raw'
         ELSE if_shaped(shape, s.duration_raw) END AS duration_raw,
    -- the shape the line was read as; 'triage' for the general rule (our own shapes)
    CASE WHEN reason IS NOT NULL AND r IS NULL THEN NULL
         WHEN text_doc IS NOT NULL OR (wrapped IS NULL AND inner_doc IS NOT NULL)
             THEN coalesce(text_doc, inner_doc) ->> '$.text_format'
         WHEN shape IS NOT NULL
              AND (s.ts_text IS NOT NULL OR s.status IS NOT NULL OR s.method IS NOT NULL
                   OR s.path IS NOT NULL OR s.duration_ms IS NOT NULL
                   OR s.duration_raw IS NOT NULL)
             THEN s.shape
         ELSE 'triage' END AS shape,
    org_id, api_key_id, user_agent, client_ip, level, message,
    err IS NOT NULL AS has_error_body,
    error_type, error_code, error_message,
    err.statusCode AS error_status,
    coalesce(err.requestId, err.request_id) AS error_request_id,
    error_source,
    -- the one definition of a failure: an HTTP error status, or error information of any kind
    coalesce(status >= 400, false) OR error_source <> 'none' AS failed,
    was_repaired AS repaired,
    -- the raw line for everything but plain successes, capped at 64 KiB; a repaired line
    -- keeps its original bytes (escaped, \xNN)
    CASE
        WHEN was_repaired OR body IS NULL THEN left(raw[1:65536]::VARCHAR, 65536)
        WHEN reason IS NULL AND status < 400 AND error_source = 'none' THEN NULL
        WHEN n_bytes <= 65536 THEN body
        ELSE left(body, 65536)
    END AS raw,
    (hash(request_id) >> 32)::UINTEGER AS rid_hash  -- what lookups filter first
FROM classified;

-- name: count_new_lines
-- What one ingest added from one source (its lines after $after_line): rows by kind, rejects
-- by reason, how many were repaired (invalid UTF-8 bytes replaced) and their first and last
-- time, added to source_lines in the same transaction (schema.sql, migrate_to_v8) and
-- returned for the ingest's summary.
INSERT INTO source_lines
SELECT source_id, kind, reject_reason, count(*), count(*) FILTER (WHERE repaired), min(ts),
       max(ts)
FROM records
WHERE source_id = $source_id AND line_no > $after_line
GROUP BY ALL
RETURNING kind, coalesce(reject_reason, '') AS reason, lines, repaired;

-- name: find_sources_by_head
-- Sources whose identity (hash of their first head_len bytes) matches a file's head.
-- The caller passes the candidate (head_len, sha256) pairs it computed from the file.
SELECT source_id, path, compression, head_len, head_sha256, tail_sha256,
       bytes_consumed, lines_consumed, blank_lines, mapping, rules_version
FROM sources
WHERE list_contains($heads, head_len::VARCHAR || ':' || head_sha256)
ORDER BY (path = $path) DESC, bytes_consumed DESC;

-- name: head_lengths
-- The distinct head lengths that identify stored sources (most are the full 1 KiB).
SELECT DISTINCT head_len FROM sources ORDER BY head_len;

-- name: mapping_last_used_at
-- The mapping the source last read from a path was read with (no row: none was read there).
-- New content at that path (after a rotation) is read with it when no --mapping is given.
SELECT mapping FROM sources
WHERE path = $path
ORDER BY last_ingested_at DESC, source_id DESC
LIMIT 1;

-- name: sources_with_older_rules
-- Sources read with parsing rules older than $rules_version, for `ingest --reread` and info.
SELECT source_id, path, rules_version FROM sources
WHERE rules_version < $rules_version
ORDER BY path, source_id;

-- name: insert_source
-- Register a new source; its first ingest commits with it.
INSERT INTO sources (
    source_id, path, compression, head_len, head_sha256, tail_sha256, bytes_consumed,
    lines_consumed, blank_lines, first_ingested_at, last_ingested_at, mapping, rules_version
) VALUES (
    nextval('source_id_seq'), $path, $compression, $head_len, $head_sha256, $tail_sha256,
    $bytes_consumed, $lines_consumed, $blank_lines, now(), now(), $mapping, $rules_version
) RETURNING source_id;

-- name: update_source
-- Move a source's offset forward after an ingest, in the same transaction as its rows, with
-- the mapping and parsing rules its rows were read with.
UPDATE sources SET
    path = $path, compression = $compression, head_len = $head_len, head_sha256 = $head_sha256,
    tail_sha256 = $tail_sha256, bytes_consumed = $bytes_consumed,
    lines_consumed = $lines_consumed, blank_lines = $blank_lines, mapping = $mapping,
    rules_version = $rules_version, last_ingested_at = now()
WHERE source_id = $source_id;

-- name: forget_source_rows
-- Delete a source's rows before it is read again from its first line (same transaction as
-- the rows that replace them).
DELETE FROM records WHERE source_id = $source_id;

-- name: forget_source_failures
-- Delete a source's copies in failed_requests, with its rows (forget_source_rows).
DELETE FROM failed_requests WHERE source_id = $source_id;

-- name: forget_source_index
-- Delete a source's entries in the request-id index, with its rows (forget_source_rows).
DELETE FROM request_index WHERE source_id = $source_id;

-- name: forget_source_index_tail
-- The same in the index's unsorted tail.
DELETE FROM request_index_tail WHERE source_id = $source_id;

-- name: forget_source_minutes
-- Delete a source's counts in request_minutes, with its rows (forget_source_rows).
DELETE FROM request_minutes WHERE source_id = $source_id;

-- name: forget_source_lines
-- Delete a source's counts in source_lines, with its rows (forget_source_rows).
DELETE FROM source_lines WHERE source_id = $source_id;

-- name: index_new_rows
-- Index the request ids of the rows just written for a source (its lines after $after_line)
-- as one run sorted by hash, in the same transaction (schema.sql, migrate_to_v6): a big
-- file's run fills row groups of its own, whose hash ranges are narrow.
INSERT INTO request_index
SELECT rid_hash, source_id, line_no
FROM records
WHERE source_id = $source_id AND line_no > $after_line AND request_id IS NOT NULL
ORDER BY rid_hash;

-- name: index_new_rows_in_tail
-- index_new_rows for a few rows: a small run would share a row group with others and widen
-- its hash range, so small runs gather in the tail until it is merged as one run.
INSERT INTO request_index_tail
SELECT rid_hash, source_id, line_no
FROM records
WHERE source_id = $source_id AND line_no > $after_line AND request_id IS NOT NULL;

-- name: request_index_tail_rows
-- How many entries wait in the index's tail.
SELECT count(*) FROM request_index_tail;

-- name: merge_request_index_tail
-- Move the tail into the index as one run sorted by hash.
INSERT INTO request_index SELECT * FROM request_index_tail ORDER BY rid_hash;
DELETE FROM request_index_tail;

-- name: copy_failed_requests
-- Copy the failed requests among the rows just written for a source (its lines after
-- $after_line) into failed_requests, in the same transaction (schema.sql, migrate_to_v5),
-- in time order: DuckDB's zone maps then skip the row groups outside a week. The error
-- body's id checks are made here, once (migrate_to_v8).
INSERT INTO failed_requests BY NAME
SELECT source_id, line_no, ts, request_id, status, route, method, org_id, api_key_id, service,
       error_type, error_code, error_source, error_status, error_request_id, shape,
       body_id_not_uuid(error_request_id) AS body_id_not_uuid,
       body_id_differs(error_request_id, request_id) AS body_id_differs
FROM records
WHERE source_id = $source_id AND line_no > $after_line AND kind = 'request' AND failed
ORDER BY ts;

-- name: roll_up_new_rows
-- Add the requests among the rows just written for a source (its lines after $after_line)
-- to request_minutes, in the same transaction (schema.sql, migrate_to_v7), in time order.
INSERT INTO request_minutes
SELECT source_id, minute_of(ts) AS minute, method, route, count(*),
       count(*) FILTER (WHERE failed), count(*) FILTER (WHERE status >= 500)
FROM records
WHERE source_id = $source_id AND line_no > $after_line AND kind = 'request' AND ts IS NOT NULL
GROUP BY ALL
ORDER BY minute;

-- name: roll_up_new_shapes
-- Add the shapes of the rows just written for a source (its lines after $after_line) to
-- source_shapes, in the same transaction (schema.sql, migrate_to_v9).
INSERT INTO source_shapes
SELECT source_id, shape, count(*), count(duration_raw), any_value(duration_raw)
FROM records
WHERE source_id = $source_id AND line_no > $after_line
GROUP BY ALL;

-- name: forget_source_shapes
-- Delete a source's counts in source_shapes, with its rows (forget_source_rows).
DELETE FROM source_shapes WHERE source_id = $source_id;

-- name: configure_ingest
-- Ingest writes rows in any order: each row carries its own line number and byte offset.
-- DuckDB's memory is capped so that a file of any size ingests in bounded memory (a file's
-- uncommitted rows spill to disk rather than grow the process).
SET preserve_insertion_order = false;
SET memory_limit = '512MB';

-- name: route_of_filter
-- A route filter (`errors --route`) as ingest stores routes: the path with its ids replaced
-- by {id} (route_of, made by define_ingest_macros, which runs first).
SELECT route_of($path);
