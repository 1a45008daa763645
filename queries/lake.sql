-- name: lake_parts
-- What a staged batch (triage/lake.py) writes to a lake: each table's rows per day, the
-- day in UTC as the lake's partitions name it ('YYYY-MM-DD'; Hive's name for none where a
-- row has no time, a rejected line without one). Tables without a time are one part.
SELECT 'records' AS lake_table, lake_day(ts) AS day, count(*) AS rows FROM records GROUP BY ALL
UNION ALL
SELECT 'failed_requests', lake_day(ts), count(*) FROM failed_requests GROUP BY ALL
UNION ALL
SELECT 'request_minutes', lake_day(make_timestamp(minute * 60000000)), count(*)
FROM request_minutes GROUP BY ALL
UNION ALL
SELECT 'request_index', NULL, count(*)
FROM (SELECT 1 FROM request_index UNION ALL SELECT 1 FROM request_index_tail)
HAVING count(*) > 0
UNION ALL
SELECT 'source_lines', NULL, count(*) FROM source_lines HAVING count(*) > 0
UNION ALL
SELECT 'source_shapes', NULL, count(*) FROM source_shapes HAVING count(*) > 0
ORDER BY ALL;

-- name: define_lake_macros
-- lake_day(ts): the partition a row with time ts goes to, as Hive and Spark name them.
CREATE OR REPLACE TEMP MACRO lake_day(ts) AS
    coalesce(strftime(ts, '%Y-%m-%d'), '__HIVE_DEFAULT_PARTITION__');
-- in_lake_day(ts, day): lake_day(ts) = day, as a range of ts that DuckDB's zone maps skip
-- by (each day's rows are read from the staged table once: 2 ms, not 100, at a million).
CREATE OR REPLACE TEMP MACRO in_lake_day(ts, day) AS
    (day = '__HIVE_DEFAULT_PARTITION__' AND ts IS NULL)
    OR (ts >= try_cast(day AS DATE) AND ts < try_cast(day AS DATE) + 1);

-- name: lake_records_of_day
-- A staged batch's rows of day $day, in the order they were logged in (file, line): what a
-- lookup's index names is then a narrow range of each file's row groups. rid_hash is written
-- as a signed 64-bit integer, the type every engine has (Spark has no unsigned one).
SELECT * REPLACE (rid_hash::BIGINT AS rid_hash)
FROM records WHERE in_lake_day(ts, $day)
ORDER BY source_id, line_no;

-- name: lake_failed_requests_of_day
-- A staged batch's failed requests of day $day, in time order (a window's row groups only),
-- each with a row id of its own that no other batch or engine gives another row: the source
-- and line it was read from (examples_at reads failures back by it).
SELECT *, (source_id << 40) | line_no AS row_id
FROM failed_requests WHERE in_lake_day(ts, $day)
ORDER BY ts, source_id, line_no;

-- name: lake_request_minutes_of_day
-- A staged batch's requests per minute of day $day, in time order.
SELECT * FROM request_minutes
WHERE lake_day(make_timestamp(minute * 60000000)) = $day
ORDER BY minute, source_id, method, route;

-- name: lake_request_index_of_day
-- A staged batch's request-id index, one run sorted by hash ($day is always NULL: the index
-- is one part per batch), so that a lookup reads the row groups whose hash range holds an id.
SELECT rid_hash::BIGINT AS rid_hash, source_id, line_no
FROM (SELECT * FROM request_index UNION ALL SELECT * FROM request_index_tail)
WHERE $day IS NULL
ORDER BY rid_hash, source_id, line_no;

-- name: lake_source_lines_of_day
-- A staged batch's lines per source, kind and reason ($day: always NULL, one part).
SELECT * FROM source_lines WHERE $day IS NULL ORDER BY ALL;

-- name: lake_source_shapes_of_day
-- A staged batch's shapes per source ($day: always NULL, one part).
SELECT * FROM source_shapes WHERE $day IS NULL ORDER BY source_id, shape;

-- name: lake_sources
-- Every source a staged batch knows (those of the lake before it, and its own), for the
-- lake's manifest: times as ISO text, the manifest being JSON.
SELECT * REPLACE (
    strftime(first_ingested_at, '%Y-%m-%dT%H:%M:%S.%f+00:00') AS first_ingested_at,
    strftime(last_ingested_at, '%Y-%m-%dT%H:%M:%S.%f+00:00') AS last_ingested_at
)
FROM sources ORDER BY source_id;

-- name: seed_lake_sources
-- The lake's sources, from its manifest ($rows: one struct each, times as ISO text), into a
-- staged batch's store or a lake's reading connection: files read before are known by their
-- content and read on from their offset.
INSERT INTO sources BY NAME
SELECT unnest($rows, recursive := true);

-- name: advance_source_ids
-- Move the staged store's source ids past $n, the lake's highest, so that a new source never
-- takes the id of one the lake holds.
SELECT max(nextval('source_id_seq')) FROM range($n);
