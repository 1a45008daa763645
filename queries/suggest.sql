-- name: suggest_sample
-- The sampled lines of a file `triage mapping suggest` reads, as a table in memory: one row
-- per line with its number in the sample and whether it is a JSON object (the only lines
-- a mapping can read).
CREATE OR REPLACE TEMP TABLE suggest_sample AS
SELECT i AS line_no, line,
       coalesce(CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' END, false)
           AS is_object,
       starts_with(ltrim(line), '{') OR starts_with(ltrim(line), '[') AS looks_json
FROM (SELECT unnest(generate_series(1, len($lines))) AS i, unnest($lines) AS line);

-- name: suggest_sample_kinds
-- What the sampled lines are: JSON objects, other JSON or broken JSON, or text.
SELECT count(*) AS lines,
       count(*) FILTER (WHERE is_object) AS objects,
       count(*) FILTER (WHERE NOT is_object AND looks_json) AS other_json,
       count(*) FILTER (WHERE NOT looks_json) AS text
FROM suggest_sample;

-- name: suggest_field_shapes
-- Every field of the sampled JSON objects (nested objects walked; of an array, its first
-- element only), named by its JSONPath: on how many lines it holds a value, and on how
-- many that value has each shape a mapping can use. The suggester picks one field per
-- column from these counts; times are checked with ingest's own parse_ts (its macros are
-- defined first), and $clf_format is the strptime format a CLF time needs.
WITH leaves AS (
    SELECT s.line_no, t.fullkey AS field, t.type,
           json_extract_string(t.value, '$') AS v
    FROM suggest_sample s, json_tree(s.line) t
    WHERE s.is_object AND t.type NOT IN ('OBJECT', 'ARRAY', 'NULL')
      AND NOT regexp_matches(t.fullkey, '\[[1-9][0-9]*\]')
), typed AS (
    SELECT *, type = 'VARCHAR' AS is_text,
           type IN ('UBIGINT', 'BIGINT', 'DOUBLE')
               OR (type = 'VARCHAR' AND regexp_full_match(v, '-?[0-9]+(\.[0-9]+)?')) AS is_numeric
    FROM leaves
), shaped AS (
    SELECT *,
        CASE WHEN is_numeric THEN try_cast(v AS DOUBLE) END AS number,
        is_text AND (
            regexp_full_match(v, '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
            OR regexp_full_match(v, '[0-9a-fA-F]{32}')
            OR regexp_full_match(v, '[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}')) AS is_id,
        is_text AND regexp_full_match(v, 'projects/[^/]+/traces/[0-9a-fA-F]{32}') AS is_trace_path,
        is_text AND NOT is_numeric AND regexp_matches(v, '^[0-9]{4}-[0-9]{2}-[0-9]{2}')
            AND parse_ts(v) IS NOT NULL AS is_iso_time,
        is_text AND try_strptime(v, $clf_format) IS NOT NULL AS is_clf_time,
        is_text AND regexp_full_match(v, '[A-Z]+ \S+ HTTP/[0-9.]+') AS is_request_line,
        is_text AND upper(v) IN ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS',
                                 'CONNECT', 'TRACE') AS is_method,
        is_text AND regexp_full_match(v, '[A-Z]+ /\S*') AS is_route_key,
        is_text AND regexp_full_match(v, '/\S*') AS is_path,
        is_text AND regexp_full_match(v, '/\S*') AND contains(v, '{') AS is_template,
        is_text AND regexp_full_match(v, '[A-Za-z][A-Za-z0-9+.-]*://[^/\s?#]+([/?#]\S*)?') AS is_url,
        is_text AND regexp_full_match(v,
            '([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}') AS is_ip,
        is_text AND regexp_full_match(v,
            '(([0-9]{1,3}\.){3}[0-9]{1,3}|\[[0-9a-fA-F:.]+\]):[0-9]{1,5}') AS is_ip_port,
        is_text AND regexp_full_match(v,
            '\s*([0-9]{1,3}\.){3}[0-9]{1,3}(\s*,\s*[0-9a-fA-F:.]+)+\s*') AS is_ip_list,
        CASE WHEN is_text THEN nullif(regexp_extract(v, '^[0-9]+(?:\.[0-9]+)?(ns|us|µs|ms|s)$', 1), '')
        END AS unit
    FROM typed
)
SELECT field,
    count(*) AS present,
    count(*) FILTER (WHERE is_text) AS texts,
    count(*) FILTER (WHERE number >= 0) AS numbers,
    count(*) FILTER (WHERE is_id) AS ids,
    count(*) FILTER (WHERE is_trace_path) AS trace_paths,
    count(*) FILTER (WHERE is_iso_time) AS iso_times,
    count(*) FILTER (WHERE is_clf_time) AS clf_times,
    -- epoch seconds, ms, µs or ns of the years 2000 to 2100, as parse_ts tells them apart
    count(*) FILTER (WHERE number BETWEEN 946684800 AND 4102444800
                        OR number BETWEEN 946684800e3 AND 4102444800e3
                        OR number BETWEEN 946684800e6 AND 4102444800e6
                        OR number BETWEEN 946684800e9 AND 4102444800e9) AS epoch_times,
    count(*) FILTER (WHERE number BETWEEN 100 AND 599 AND number = floor(number)) AS statuses,
    count(*) FILTER (WHERE v IN ('200', '201', '204', '301', '302', '304', '400', '401', '403',
                                 '404', '409', '429', '500', '502', '503', '504')) AS common_statuses,
    count(*) FILTER (WHERE is_request_line) AS request_lines,
    count(*) FILTER (WHERE is_method) AS methods,
    count(*) FILTER (WHERE is_route_key) AS route_keys,
    count(*) FILTER (WHERE is_path) AS paths,
    count(*) FILTER (WHERE is_template) AS templates,
    count(*) FILTER (WHERE is_url) AS urls,
    count(*) FILTER (WHERE is_ip) AS ips,
    count(*) FILTER (WHERE is_ip_port) AS ip_ports,
    count(*) FILTER (WHERE is_ip_list) AS ip_lists,
    count(*) FILTER (WHERE unit IS NOT NULL) AS with_unit,
    coalesce(list(DISTINCT unit ORDER BY unit) FILTER (WHERE unit IS NOT NULL), []) AS units
FROM shaped
GROUP BY field
ORDER BY min(line_no), field;

-- name: suggest_mapped_counts
-- On how many sampled JSON lines each column of a proposed mapping finds a value, read the
-- way ingest_lines reads it (its mapped(), present() and parse_ts() macros, and the
-- $m_* / $rx_* / $ts_format / $duration_scale parameters load_mapping makes).
WITH read AS (
    SELECT
        CASE WHEN $ts_format IS NOT NULL
             THEN try_strptime(mapped(line, $m_timestamp, $rx_timestamp), $ts_format)::TIMESTAMPTZ
             ELSE parse_ts(mapped(line, $m_timestamp, $rx_timestamp)) END AS timestamp,
        present(mapped(line, $m_request_id, $rx_request_id)) AS request_id,
        mapped(line, $m_method, $rx_method) AS method,
        mapped(line, $m_path, $rx_path) AS path,
        mapped(line, $m_route, $rx_route) AS route,
        try_cast(mapped(line, $m_status, $rx_status) AS SMALLINT) AS status,
        try_cast(mapped(line, $m_duration_ms, $rx_duration_ms) AS DOUBLE) AS duration_ms,
        mapped(line, $m_client_ip, $rx_client_ip) AS client_ip,
        mapped(line, $m_user_agent, $rx_user_agent) AS user_agent
    FROM suggest_sample
    WHERE is_object
)
SELECT count(timestamp) AS timestamp, count(request_id) AS request_id, count(method) AS method,
       count(path) AS path, count(route) AS route, count(status) AS status,
       count(duration_ms) AS duration_ms, count(client_ip) AS client_ip,
       count(user_agent) AS user_agent
FROM read;
