-- name: create_schema_v1
-- The store's tables, version 1. `records` holds one row per non-blank input line: an event
-- (kind request, trace or log) or a rejected line (kind reject). The `events` and `rejects`
-- views are what every other query reads. Raw text is kept only where it earns its place
-- (failures, trace and log lines, rejects); every row keeps its provenance (source, line, byte).
CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS source_id_seq START 1;
CREATE TABLE IF NOT EXISTS sources (
    source_id BIGINT PRIMARY KEY,
    path VARCHAR NOT NULL,            -- where it was last read from ('-' for stdin)
    compression VARCHAR NOT NULL,     -- none | gzip | zstd
    head_len BIGINT NOT NULL,         -- identity: sha256 of the first head_len content bytes
    head_sha256 VARCHAR NOT NULL,
    tail_sha256 VARCHAR NOT NULL,     -- sha256 of the (up to) 256 bytes before bytes_consumed
    bytes_consumed BIGINT NOT NULL,   -- offset of the first byte not yet ingested
    lines_consumed BIGINT NOT NULL,
    blank_lines BIGINT NOT NULL,
    first_ingested_at TIMESTAMPTZ NOT NULL,
    last_ingested_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    source_id BIGINT NOT NULL,
    line_no BIGINT NOT NULL,          -- 1-based line number in the source
    byte_offset BIGINT NOT NULL,      -- offset of the line's first byte in the (decompressed) source
    kind VARCHAR NOT NULL,            -- request | trace | log | reject
    reject_reason VARCHAR,
    ts TIMESTAMPTZ,
    request_id VARCHAR,
    service VARCHAR,
    method VARCHAR,
    path VARCHAR,
    route VARCHAR,
    status SMALLINT,
    duration_ms DOUBLE,
    org_id VARCHAR,
    api_key_id VARCHAR,
    user_agent VARCHAR,
    client_ip VARCHAR,
    level VARCHAR,
    message VARCHAR,
    has_error_body BOOLEAN NOT NULL,
    error_type VARCHAR,
    error_code VARCHAR,
    error_message VARCHAR,
    error_status VARCHAR,             -- statusCode as written in the error body (text: it drifts)
    error_request_id VARCHAR,         -- requestId as written in the error body
    raw VARCHAR                       -- the line, capped at 64 KiB; NULL for plain successes
);
CREATE OR REPLACE VIEW events AS
    SELECT * EXCLUDE (reject_reason) FROM records WHERE kind <> 'reject';
CREATE OR REPLACE VIEW rejects AS
    SELECT r.source_id, s.path AS source_path, r.line_no, r.byte_offset,
           r.reject_reason AS reason, r.raw
    FROM records r JOIN sources s USING (source_id)
    WHERE r.kind = 'reject';
INSERT INTO meta VALUES ('schema_version', '1') ON CONFLICT DO NOTHING;

-- name: schema_version
-- The store's schema version, or no row for a store made by something else.
SELECT value FROM meta WHERE key = 'schema_version';

-- name: set_schema_version
-- Record the schema version after a migration.
INSERT OR REPLACE INTO meta VALUES ('schema_version', $version);

-- name: configure_connection
-- Settings every connection runs with: UTC for naive timestamps and day buckets, no
-- extension downloads or autoloading, and no file or network access from SQL (triage reads
-- files itself and hands DuckDB Arrow data, so a path in a log can never be opened).
SET TimeZone = 'UTC';
SET autoinstall_known_extensions = false;
SET autoload_known_extensions = false;
SET enable_external_access = false;
-- local_time(ts, starts, offsets): ts as the wall clock of a time zone reads it, from that
-- zone's UTC offsets as Python's time zone database gives them (timespec.utc_offsets: the
-- instants each run of one offset starts at, and the offsets in seconds). DuckDB's own time
-- zone data is never asked, so buckets and week bounds come from one database.
CREATE OR REPLACE TEMP MACRO local_time(ts, starts, offsets) AS
    ts + to_seconds(offsets[array_length(list_filter(starts, lambda s: s <= ts))]::BIGINT);
-- minute_of(ts): the minute ts falls in, counted from the epoch (floored, before 1970 too):
-- the key of request_minutes.
CREATE OR REPLACE TEMP MACRO minute_of(ts) AS
    (epoch_us(ts) - (epoch_us(ts) % 60000000 + 60000000) % 60000000) // 60000000;
-- body_id_not_uuid / body_id_differs: whether an error body's requestId is not a UUID, or
-- differs from its line's request id (the contract's checks; failed_requests keeps both).
CREATE OR REPLACE TEMP MACRO body_id_not_uuid(error_request_id) AS
    error_request_id IS NOT NULL AND try_cast(error_request_id AS UUID) IS NULL;
CREATE OR REPLACE TEMP MACRO body_id_differs(error_request_id, request_id) AS
    coalesce(error_request_id <> request_id, false);
-- event_fields(raw): the fields of a trace or log line beyond the ones every event has (its
-- time, level, service, request id and message), as a map of name to text: what a service
-- said about the request ("reason": "revoked"). A Docker json-file wrapper is looked into.
CREATE OR REPLACE TEMP MACRO event_fields(raw) AS (
    WITH d AS (
        SELECT CASE WHEN json_valid(raw) THEN
                   CASE WHEN json_valid(raw ->> '$.log')
                             AND json_type((raw ->> '$.log')::JSON) = 'OBJECT'
                        THEN (raw ->> '$.log')::JSON ELSE raw::JSON END
               END AS doc
    )
    SELECT CASE WHEN json_type(doc) = 'OBJECT' THEN map_from_entries(list_transform(
               list_filter(json_keys(doc), lambda k: lower(k) NOT IN (
                   'time', 'timestamp', '@timestamp', 'ts', 'level', 'severity', 'lvl',
                   'service', 'request_id', 'requestid', 'req_id', 'msg', 'message', 'log',
                   'stream')),
               lambda k: {'key': k, 'value': json_extract_string(doc, '$."' || k || '"')}))
           END
    FROM d
);
-- route_family(route): a route up to its first parameter, the resource it acts on
-- (/v1/schedules/{id}/overrides and /v1/schedules are /v1/schedules): incidents are
-- detected per family as well as for the whole API.
CREATE OR REPLACE TEMP MACRO route_family(route) AS
    coalesce(nullif(regexp_replace(route, '/?\{.*$', ''), ''), route, '?');
-- poisson_tail_ln(k, mean): the natural log of an upper bound on P(X >= k) for X Poisson
-- with that mean: P(X = k) * (k + 1) / (k + 1 - mean), valid while k + 1 > mean
-- (each further term is at most mean / (k + 1) of the one before); 0 (a probability of
-- at most 1) below that, NULL when mean is 0 (then any k > 0 is beyond chance).
CREATE OR REPLACE TEMP MACRO poisson_tail_ln(k, mean) AS
    CASE WHEN mean <= 0 THEN NULL
         WHEN k + 1 <= mean THEN 0.0
         ELSE least(0.0, k * ln(mean) - mean - lgamma(k + 1) + ln((k + 1) / (k + 1 - mean)))
    END;
-- surprising(k, mean, min_count, factor, ln_alpha): whether a count k is a burst where
-- mean was expected: at least min_count, at least factor times mean, and less likely
-- than exp(ln_alpha) by chance.
CREATE OR REPLACE TEMP MACRO surprising(k, mean, min_count, factor, ln_alpha) AS
    k >= min_count AND k >= factor * mean
    AND coalesce(poisson_tail_ln(k, mean) < ln_alpha, k > 0);

-- name: table_macros
-- The table macros, made on every connection once its schema is current (open_store; DuckDB
-- binds a table macro's tables when it is made).
-- requests_per_minute(since, until): requests, failures and
-- server errors by method, route and minute (minute_of) between two instants, as rows to be
-- summed (a key may have several: each caller groups as it needs). Exact: the minutes wholly
-- inside come from the roll-up request_minutes, the part minutes at either end from the
-- requests themselves. The bounds
-- are written out in each WHERE, not joined from a CTE: only constants let DuckDB's zone maps
-- skip the row groups outside the window (0.5 s against 0.1 s a week at 50M lines).
CREATE OR REPLACE TEMP MACRO first_whole_minute(since) AS
    minute_of(since) + CASE WHEN epoch_us(since) % 60000000 = 0 THEN 0 ELSE 1 END;
CREATE OR REPLACE TEMP MACRO requests_per_minute(since, until) AS TABLE
    SELECT method, route, minute, requests, failures, server_errors
    FROM request_minutes
    WHERE minute >= first_whole_minute(since) AND minute < minute_of(until)
    UNION ALL
    SELECT method, route, minute_of(ts), 1, CASE WHEN failed THEN 1 ELSE 0 END,
           CASE WHEN status >= 500 THEN 1 ELSE 0 END
    FROM events
    WHERE kind = 'request' AND ts >= since AND ts < until
      AND ts < to_timestamp(first_whole_minute(since) * 60)
    UNION ALL
    -- (when the window holds no whole minute, the first part took every request of it)
    SELECT method, route, minute_of(ts), 1, CASE WHEN failed THEN 1 ELSE 0 END,
           CASE WHEN status >= 500 THEN 1 ELSE 0 END
    FROM events
    WHERE kind = 'request' AND ts >= since AND ts < until
      AND ts >= to_timestamp(greatest(minute_of(until), first_whole_minute(since)) * 60);
-- failure_groups(since, until, examples): the failed requests between two instants (either
-- NULL: unbounded), counted by everything the weekly report and the contract check tell
-- failures apart by: route, status, org, key, type, code, where the error information came
-- from, the log shape, and how the error body matches the line. Each group keeps its first
-- and last time and its latest `examples` failures (at least one), each as {ts, source_id,
-- line_no, row_id}: the row id in failed_requests names it (examples_at), and among failures
-- at the same time the later file and line come first, so that stores made of the same files
-- give the same examples (row ids follow no order: ingest writes rows in parallel). A week of
-- 640,000 failures is a few hundred groups: every section reads those, not the failures. (The
-- error body's checks were made at ingest: a UUID cast per failure was half of the grouping.)
CREATE OR REPLACE TEMP MACRO failure_groups(since, until, examples) AS TABLE
    SELECT method, route, status, org_id, api_key_id, error_type, error_code, error_source,
           shape,
           error_status IS NOT NULL
               AND try_cast(error_status AS INTEGER) IS DISTINCT FROM status AS body_status_differs,
           error_request_id IS NULL AS body_id_missing, body_id_not_uuid, body_id_differs,
           count(*) AS n, min(ts) AS first_seen, max(ts) AS last_seen,
           max({'ts': ts, 'source_id': source_id, 'line_no': line_no, 'row_id': rowid},
               greatest(examples, 1)) AS latest
    FROM failed_requests
    WHERE (since IS NULL OR ts >= since) AND (until IS NULL OR ts < until)
    GROUP BY ALL;

-- name: has_meta_table
-- Whether the open database has triage's meta table (is a triage store at all).
SELECT count(*) > 0 FROM duckdb_tables()
WHERE table_name = 'meta' AND database_name = current_database();

-- name: database_objects
-- What a database that is not a triage store holds (tables, views, sequences), so that
-- triage never adds its own into someone else's database: an empty one has no rows here.
SELECT kind, name FROM (
    SELECT 'table' AS kind, table_name AS name, database_name FROM duckdb_tables()
    WHERE NOT temporary
    UNION ALL
    SELECT 'view', view_name, database_name FROM duckdb_views() WHERE NOT internal AND NOT temporary
    UNION ALL
    SELECT 'sequence', sequence_name, database_name FROM duckdb_sequences() WHERE NOT temporary
)
WHERE database_name = current_database()
ORDER BY kind, name
LIMIT 5;

-- name: migrate_to_v2
-- Version 2 adds rid_hash, a 32-bit hash of the request id. A point lookup filters this
-- small integer column first, which costs a fraction of comparing every 36-character id,
-- so lookups stay cheap as the store grows (an ART index would double ingest time and
-- the store's size). Existing rows are hashed here; the views are recreated to see it.
ALTER TABLE records ADD COLUMN IF NOT EXISTS rid_hash UINTEGER;
UPDATE records SET rid_hash = (hash(request_id) >> 32)::UINTEGER WHERE request_id IS NOT NULL;
CREATE OR REPLACE VIEW events AS
    SELECT * EXCLUDE (reject_reason) FROM records WHERE kind <> 'reject';
CREATE OR REPLACE VIEW rejects AS
    SELECT r.source_id, s.path AS source_path, r.line_no, r.byte_offset,
           r.reject_reason AS reason, r.raw
    FROM records r JOIN sources s USING (source_id)
    WHERE r.kind = 'reject';

-- name: rid_hash_probe
-- What this DuckDB's hash() gives for a fixed text. rid_hash (the 32-bit hash of the request
-- id that lookups filter first) is only as good as the hash() that wrote it, and DuckDB does
-- not promise hash() across versions: the store keeps the probe its hashes were written with.
SELECT hash('triage rid_hash probe')::VARCHAR;

-- name: stored_rid_hash_probe
-- The probe of the hash() the store's rid_hash values were written with (no row: unknown).
SELECT value FROM meta WHERE key = 'rid_hash_probe';

-- name: rehash_request_ids
-- Write every rid_hash again with this DuckDB's hash(), as ingest writes it.
UPDATE records SET rid_hash = (hash(request_id) >> 32)::UINTEGER;

-- name: reindex_request_ids
-- Build the request-id index again, as one sorted run (after rehash_request_ids).
DELETE FROM request_index;
DELETE FROM request_index_tail;
INSERT INTO request_index
SELECT rid_hash, source_id, line_no FROM records WHERE request_id IS NOT NULL ORDER BY rid_hash;

-- name: set_rid_hash_probe
-- Record the probe of the hash() that wrote the store's rid_hash values.
INSERT OR REPLACE INTO meta VALUES ('rid_hash_probe', $probe);

-- name: migrate_to_v3
-- Version 3 defines a failure once, at ingest: `failed` is an HTTP error status or error
-- information of any kind, and `error_source` says where the error's type and code came
-- from (body: an error object or a JSON string holding one; fields: flattened errorType /
-- error_code fields; none). `repaired` flags a line whose invalid UTF-8 bytes were replaced
-- by U+FFFD (its raw bytes are kept); `reject_detail` says more about a rejection (a broken
-- record inside a container wrapper). Existing rows get the same definitions from what they
-- hold (older versions kept flattened error fields on failures only).
ALTER TABLE records ADD COLUMN IF NOT EXISTS reject_detail VARCHAR;
ALTER TABLE records ADD COLUMN IF NOT EXISTS error_source VARCHAR;
ALTER TABLE records ADD COLUMN IF NOT EXISTS failed BOOLEAN;
ALTER TABLE records ADD COLUMN IF NOT EXISTS repaired BOOLEAN;
UPDATE records SET
    repaired = false,
    error_source = CASE
        WHEN has_error_body THEN 'body'
        WHEN nullif(trim(error_type), '') IS NOT NULL OR nullif(trim(error_code), '') IS NOT NULL
            THEN 'fields'
        ELSE 'none' END;
UPDATE records SET failed = coalesce(status >= 400, false) OR error_source <> 'none';
CREATE OR REPLACE VIEW events AS
    SELECT * EXCLUDE (reject_reason, reject_detail) FROM records WHERE kind <> 'reject';
CREATE OR REPLACE VIEW rejects AS
    SELECT r.source_id, s.path AS source_path, r.line_no, r.byte_offset,
           r.reject_reason AS reason, r.reject_detail AS detail, r.repaired, r.raw
    FROM records r JOIN sources s USING (source_id)
    WHERE r.kind = 'reject';

-- name: migrate_to_v4
-- Version 4 remembers how each source was read, so that it can be read again when that
-- changes: `mapping` holds the mapping's rules as canonical JSON (NULL: read without one) and
-- `rules_version` the version of the parsing rules (triage.ingest.PARSING_RULES); existing
-- sources were read with version 1. `records` gains `shape` (the log shape a line was
-- recognised as) and `duration_raw` (a duration as written, when its unit cannot be known).
-- The views are recreated to see them.
ALTER TABLE sources ADD COLUMN IF NOT EXISTS mapping VARCHAR;
ALTER TABLE sources ADD COLUMN IF NOT EXISTS rules_version INTEGER;
UPDATE sources SET rules_version = 1 WHERE rules_version IS NULL;
ALTER TABLE records ADD COLUMN IF NOT EXISTS shape VARCHAR;
ALTER TABLE records ADD COLUMN IF NOT EXISTS duration_raw VARCHAR;
CREATE OR REPLACE VIEW events AS
    SELECT * EXCLUDE (reject_reason, reject_detail) FROM records WHERE kind <> 'reject';
CREATE OR REPLACE VIEW rejects AS
    SELECT r.source_id, s.path AS source_path, r.line_no, r.byte_offset,
           r.reject_reason AS reason, r.reject_detail AS detail, r.repaired, r.raw
    FROM records r JOIN sources s USING (source_id)
    WHERE r.kind = 'reject';

-- name: migrate_to_v5
-- Version 5 keeps the failed requests apart, in `failed_requests`: a narrow copy of each
-- request row that failed (`failed`), written in the same transaction as the rows it copies
-- (triage/ingest.py), so that `errors` groups a small share of the store's rows (a twentieth
-- in the benchmarks) and half of its columns. It also holds the columns the weekly report and
-- the contract check read of a failure, for when they read it too. Existing failures are
-- copied here.
CREATE TABLE IF NOT EXISTS failed_requests (
    source_id BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    ts TIMESTAMPTZ,
    request_id VARCHAR,
    status SMALLINT,
    route VARCHAR,
    method VARCHAR,
    org_id VARCHAR,
    api_key_id VARCHAR,
    service VARCHAR,
    error_type VARCHAR,
    error_code VARCHAR,
    error_source VARCHAR,
    error_status VARCHAR,
    error_request_id VARCHAR,
    shape VARCHAR
);
INSERT INTO failed_requests BY NAME
SELECT source_id, line_no, ts, request_id, status, route, method, org_id, api_key_id, service,
       error_type, error_code, error_source, error_status, error_request_id, shape
FROM records
WHERE kind = 'request' AND failed;

-- name: migrate_to_v6
-- Version 6 adds the request-id index: (rid_hash, source_id, line_no) of every row with a
-- request id, in runs sorted by hash, so that a lookup reads the few row groups whose hash
-- range holds the id (DuckDB's zone maps skip the rest) and then exactly the rows it names,
-- however big the store. Each ingest adds its rows as a run, in the same transaction; runs
-- of fewer than triage.ingest.INDEX_RUN_ROWS rows wait in request_index_tail (read whole by a
-- lookup) until they add up to one, then move over sorted. Existing rows are indexed here.
CREATE TABLE IF NOT EXISTS request_index (
    rid_hash UINTEGER NOT NULL,
    source_id BIGINT NOT NULL,
    line_no BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS request_index_tail (
    rid_hash UINTEGER NOT NULL,
    source_id BIGINT NOT NULL,
    line_no BIGINT NOT NULL
);
-- (a row written without its hash, by hand or by a tool, gets it first)
UPDATE records SET rid_hash = (hash(request_id) >> 32)::UINTEGER
WHERE rid_hash IS NULL AND request_id IS NOT NULL;
INSERT INTO request_index
SELECT rid_hash, source_id, line_no FROM records WHERE request_id IS NOT NULL ORDER BY rid_hash;

-- name: migrate_to_v7
-- Version 7 adds request_minutes, the requests, failures and server errors per source,
-- minute (minute_of), method and route, so that counting a week's traffic per minute reads
-- a roll-up, not every request (requests_per_minute). Each ingest adds the counts of the rows
-- it writes, in the same transaction; a source read again loses its counts with its rows.
-- Several rows may share a key (a file appended to later adds its own): readers sum them.
CREATE TABLE IF NOT EXISTS request_minutes (
    source_id BIGINT NOT NULL,
    minute BIGINT NOT NULL,
    method VARCHAR,
    route VARCHAR,
    requests BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    server_errors BIGINT NOT NULL
);
INSERT INTO request_minutes
SELECT source_id, minute_of(ts) AS minute, method, route, count(*),
       count(*) FILTER (WHERE failed), count(*) FILTER (WHERE status >= 500)
FROM records
WHERE kind = 'request' AND ts IS NOT NULL
GROUP BY ALL
ORDER BY minute;

-- name: migrate_to_v8
-- Version 8 adds source_lines, what each source's lines became: rows per kind (and reject
-- reason), how many were repaired, and the first and last time among them, so that saying
-- what a store or a week's files hold, and what was rejected from them, reads a few rows,
-- not every row. Each ingest adds the counts of the rows it writes, in the same transaction;
-- a source read again loses its counts with its rows. Several rows may share a key (a file
-- appended to later adds its own): readers sum them.
-- failed_requests also keeps the error body's id checks (body_id_not_uuid, body_id_differs),
-- made once as each failure is copied, not by every report and contract check.
CREATE TABLE IF NOT EXISTS source_lines (
    source_id BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    reject_reason VARCHAR,
    lines BIGINT NOT NULL,
    repaired BIGINT NOT NULL,
    first_ts TIMESTAMPTZ,
    last_ts TIMESTAMPTZ
);
INSERT INTO source_lines
SELECT source_id, kind, reject_reason, count(*), count(*) FILTER (WHERE repaired), min(ts),
       max(ts)
FROM records
GROUP BY ALL;
ALTER TABLE failed_requests ADD COLUMN IF NOT EXISTS body_id_not_uuid BOOLEAN;
ALTER TABLE failed_requests ADD COLUMN IF NOT EXISTS body_id_differs BOOLEAN;
UPDATE failed_requests
SET body_id_not_uuid = body_id_not_uuid(error_request_id),
    body_id_differs = body_id_differs(error_request_id, request_id);

-- name: migrate_to_v9
-- Version 9 adds source_shapes, the shapes each source's lines were read as (a log shape of
-- queries/shapes.sql, or none for the API's own JSON), with how many lines each and how many
-- durations had no unit that can be known (left empty, never guessed) and one of them: what
-- `triage info` and the sources page say of every file, read from a few rows, not from every
-- row (7.8 s at 50M lines). Each ingest adds the counts of the rows it writes, in the same
-- transaction; a source read again loses them with its rows. Several rows may share a key:
-- readers sum them.
CREATE TABLE IF NOT EXISTS source_shapes (
    source_id BIGINT NOT NULL,
    shape VARCHAR,
    lines BIGINT NOT NULL,
    unknown_unit_durations BIGINT NOT NULL,
    unknown_unit_example VARCHAR
);
INSERT INTO source_shapes
SELECT source_id, shape, count(*), count(duration_raw), any_value(duration_raw)
FROM records
GROUP BY ALL;
