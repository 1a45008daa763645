-- name: catalog_types_table
-- The documented error types and the HTTP statuses each allows, as the temporary table
-- catalog_types(type, status), from $rows (a list of structs made from triage/catalog.py).
CREATE OR REPLACE TEMP TABLE catalog_types AS SELECT unnest($rows, recursive := true);

-- name: catalog_codes_table
-- The documented error codes with their type, status and meaning, as the temporary table
-- catalog_codes(code, type, status, meaning), from $rows.
CREATE OR REPLACE TEMP TABLE catalog_codes AS SELECT unnest($rows, recursive := true);
