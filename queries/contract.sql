-- name: contract_failures
-- The failures a contract check looks at: failed requests between $since and $until (an error
-- status or error information of any kind: `failed`), counted by what the checks judge
-- (failure_groups), as the temporary table contract_staged; contract_input_staged then names
-- it contract_input.
CREATE OR REPLACE TEMP TABLE contract_staged AS
    SELECT * FROM failure_groups($since::TIMESTAMPTZ, $until::TIMESTAMPTZ, $examples);

-- name: contract_input_staged
-- contract_input is a view in both uses (the report's is over report_failures), so that one
-- connection can run both in any order: DuckDB replaces a view with a view, not a table.
CREATE OR REPLACE TEMP VIEW contract_input AS SELECT * FROM contract_staged;

-- name: contract_violations
-- Every failure group in contract_input (failure_groups) checked against the documented
-- contract (the catalogue registered as catalog_types / catalog_codes). One row per
-- (violation, type, code, status, error_source) with its count, first and last seen and the
-- row ids of examples.
-- The type and code are checked wherever the line carried them (error_source: an error
-- body, or flattened errorType / errorCode fields): unknown type; status not allowed for the
-- type; undocumented code; documented code under another type or with another status; a
-- missing or empty code outside validation_error; error information on a 2xx/3xx; a 4xx/5xx
-- with no error information at all, judged only on lines read in the Scaling API's own shapes
-- (shape 'triage', or NULL in a store made before shapes were recorded): an access log of a
-- proxy or web server (Envoy, nginx...) never shows a response body, so its silence says
-- nothing about the API. Only where there is a body: its statusCode different
-- from the HTTP status; no requestId, one that is not a UUID, or one that differs from the
-- line's request id.
WITH shapes AS (
    -- failure groups that look alike to every check, counted together: the checks then run
    -- once per shape, not once per group
    SELECT error_source, status, error_type, error_code,
           coalesce(shape, 'triage') = 'triage' AS api_shape,
           body_status_differs, body_id_missing, body_id_not_uuid, body_id_differs,
           sum(n) AS n, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
           flatten(list(latest)) AS latest
    FROM contract_input
    GROUP BY ALL
), checked AS (
    SELECT
        e.status, e.error_type AS type, e.error_code AS code, e.error_source, e.n,
        e.first_seen, e.last_seen, e.latest,
        list_filter([
            CASE WHEN e.error_source <> 'none' AND e.status < 400 THEN 'error_on_success' END,
            CASE WHEN e.error_source = 'none' AND e.status >= 400 AND e.api_shape
                 THEN 'missing_error_body' END,
            CASE WHEN e.error_type IS NOT NULL AND known.type IS NULL THEN 'unknown_type' END,
            CASE WHEN e.status >= 400 AND known.type IS NOT NULL AND allowed.type IS NULL
                 THEN 'status_not_allowed_for_type' END,
            CASE WHEN coalesce(e.error_code, '') <> '' AND c.code IS NULL
                 THEN 'undocumented_code' END,
            CASE WHEN c.type IS DISTINCT FROM e.error_type AND c.code IS NOT NULL
                 THEN 'code_not_allowed_for_type' END,
            CASE WHEN c.status <> e.status THEN 'status_not_allowed_for_code' END,
            CASE WHEN e.error_source <> 'none' AND coalesce(e.error_code, '') = ''
                      AND e.error_type IS DISTINCT FROM 'validation_error'
                 THEN 'empty_code_outside_validation' END,
            CASE WHEN e.error_source = 'body' AND e.body_status_differs
                 THEN 'body_status_mismatch' END,
            CASE WHEN e.error_source = 'body' AND e.body_id_missing
                 THEN 'body_request_id_missing' END,
            CASE WHEN e.error_source = 'body' AND e.body_id_not_uuid
                 THEN 'body_request_id_not_uuid' END,
            CASE WHEN e.error_source = 'body' AND e.body_id_differs
                 THEN 'body_request_id_mismatch' END
        ], lambda v: v IS NOT NULL) AS violations
    FROM shapes e
    -- the catalogue, joined once per shape (each join matches at most one row)
    LEFT JOIN (SELECT DISTINCT type FROM catalog_types) known ON known.type = e.error_type
    LEFT JOIN catalog_types allowed ON allowed.type = e.error_type AND allowed.status = e.status
    LEFT JOIN catalog_codes c ON c.code = e.error_code
)
SELECT
    violation, type, code, status, error_source,
    sum(n)::BIGINT AS count,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen,
    list_transform(list_sort(flatten(list(latest)), 'DESC')[1:$examples], lambda x: x.row_id)
        AS example_rows
FROM (SELECT unnest(violations) AS violation, * EXCLUDE (violations) FROM checked)
GROUP BY violation, type, code, status, error_source
ORDER BY violation, count DESC, type, code, status, error_source;
