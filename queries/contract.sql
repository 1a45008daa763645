-- name: contract_failures
-- The failures a contract check looks at: failed requests (status >= 400 or an error body)
-- between $since and $until, as the temporary table contract_input: the fields checked, and
-- the row id that names an example (request_ids_at). Reads records, not events, for rowid.
CREATE OR REPLACE TEMP TABLE contract_input AS
    SELECT rowid AS row_id, ts, status, has_error_body, error_type, error_code, error_status,
           error_request_id, error_request_id <> request_id AS request_id_differs
    FROM records
    WHERE kind = 'request' AND (status >= 400 OR has_error_body)
      AND ($since IS NULL OR ts >= $since) AND ($until IS NULL OR ts < $until);

-- name: contract_violations
-- Every failure in contract_input checked against the documented contract (the catalogue
-- registered as catalog_types / catalog_codes). One row per (violation, type, code, status) with its count,
-- first and last seen and the row ids of examples. Checks: unknown type; status not allowed for
-- the type; undocumented code; documented code under another type or with another status;
-- body statusCode different from the HTTP status; error body without a requestId, or with one
-- that is not a UUID, or differs from the line's request id; empty code outside
-- validation_error; an error body on a 2xx; no error body on a 4xx/5xx.
WITH shapes AS (
    -- failures that look alike to every check, counted together: the checks then run once
    -- per shape, not once per failure
    SELECT has_error_body, status, error_type, error_code,
           error_status IS NOT NULL
               AND try_cast(error_status AS INTEGER) IS DISTINCT FROM status AS body_status_differs,
           error_request_id IS NULL AS body_id_missing,
           error_request_id IS NOT NULL
               AND try_cast(error_request_id AS UUID) IS NULL AS body_id_not_uuid,
           coalesce(request_id_differs, false) AS body_id_differs,
           count(*) AS n, min(ts) AS first_seen, max(ts) AS last_seen,
           max({'ts': ts, 'row_id': row_id}, greatest($examples, 1)) AS latest
    FROM contract_input
    GROUP BY ALL
), checked AS (
    SELECT
        e.status, e.error_type AS type, e.error_code AS code, e.n, e.first_seen, e.last_seen,
        e.latest,
        list_filter([
            CASE WHEN e.has_error_body AND e.status < 400 THEN 'error_body_on_success' END,
            CASE WHEN NOT e.has_error_body AND e.status >= 400 THEN 'missing_error_body' END,
            CASE WHEN e.has_error_body AND e.error_type IS NOT NULL AND known.type IS NULL
                 THEN 'unknown_type' END,
            CASE WHEN e.has_error_body AND e.status >= 400 AND known.type IS NOT NULL
                      AND allowed.type IS NULL
                 THEN 'status_not_allowed_for_type' END,
            CASE WHEN e.has_error_body AND coalesce(e.error_code, '') <> '' AND c.code IS NULL
                 THEN 'undocumented_code' END,
            CASE WHEN c.type <> e.error_type THEN 'code_not_allowed_for_type' END,
            CASE WHEN c.status <> e.status THEN 'status_not_allowed_for_code' END,
            CASE WHEN e.has_error_body AND e.body_status_differs THEN 'body_status_mismatch' END,
            CASE WHEN e.has_error_body AND e.body_id_missing THEN 'body_request_id_missing' END,
            CASE WHEN e.body_id_not_uuid THEN 'body_request_id_not_uuid' END,
            CASE WHEN e.body_id_differs THEN 'body_request_id_mismatch' END,
            CASE WHEN e.has_error_body AND e.error_code = ''
                      AND e.error_type IS DISTINCT FROM 'validation_error'
                 THEN 'empty_code_outside_validation' END
        ], lambda v: v IS NOT NULL) AS violations
    FROM shapes e
    -- the catalogue, joined once per shape (each join matches at most one row)
    LEFT JOIN (SELECT DISTINCT type FROM catalog_types) known ON known.type = e.error_type
    LEFT JOIN catalog_types allowed ON allowed.type = e.error_type AND allowed.status = e.status
    LEFT JOIN catalog_codes c ON c.code = e.error_code
)
SELECT
    violation, type, code, status,
    sum(n)::BIGINT AS count,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen,
    list_transform(list_sort(flatten(list(latest)), 'DESC')[1:$examples], lambda x: x.row_id)
        AS example_rows
FROM (SELECT unnest(violations) AS violation, * EXCLUDE (violations) FROM checked)
GROUP BY violation, type, code, status
ORDER BY violation, count DESC, type, code, status;
