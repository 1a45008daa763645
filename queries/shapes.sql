-- name: define_shape_macros
-- The third-party access-log shapes triage reads with no mapping (Envoy, API Gateway, nginx,
-- Traefik, Caddy, Kong, GCP, ECS / OpenTelemetry, service logs), as temporary macros the
-- ingest statement uses. Created on the ingesting connection only.
--
-- How a line finds its shape, cheaply: the reader samples each block of lines and marks the
-- shapes it saw (triage/shapes.py, a bit per shape in shape_names() order); in a marked block
-- one substring test per line picks the line's shape among the marked ones (line_shape). A
-- block of triage's own lines is marked with none and pays nothing. Each shape then reads
-- its own fields with one json_extract_string over a list of paths (one parse), and
-- shape_fields turns that list into the normalised columns. Units are the shape's: a
-- duration is converted to ms only where the shape documents its unit.

-- The shapes, in the bit order of triage/shapes.py (a test checks that they agree).
CREATE OR REPLACE TEMP MACRO shape_names() AS
    ['envoy', 'apigw', 'gcp', 'kong', 'caddy', 'traefik', 'nginx', 'semconv', 'service'];
CREATE OR REPLACE TEMP MACRO has_shape(flags, bit) AS (flags >> bit) & 1 = 1;

-- The line's shape among those its block was seen to hold: the first whose marker is in the
-- line's text (markers are key names without quotes, so a line wrapped by Docker or Fluent
-- Bit, where the quotes are escaped, matches too). Specific shapes first, service logs last.
CREATE OR REPLACE TEMP MACRO line_shape(body, flags) AS CASE
    WHEN has_shape(flags, 0) AND contains(body, 'start_time') THEN 'envoy'
    WHEN has_shape(flags, 1) AND contains(body, 'httpMethod') THEN 'apigw'
    WHEN has_shape(flags, 2) AND contains(body, 'httpRequest') THEN 'gcp'
    WHEN has_shape(flags, 3) AND (contains(body, 'latencies') OR contains(body, 'started_at'))
        THEN 'kong'
    WHEN has_shape(flags, 4) AND contains(body, 'http.log.access') THEN 'caddy'
    WHEN has_shape(flags, 5) AND (contains(body, 'DownstreamStatus') OR contains(body, 'RequestMethod'))
        THEN 'traefik'
    WHEN has_shape(flags, 6) AND (contains(body, 'remote_addr') OR contains(body, 'time_local')
                                  OR contains(body, 'time_iso8601') OR contains(body, 'request_time'))
        THEN 'nginx'
    WHEN has_shape(flags, 7) AND (contains(body, 'status_code') OR contains(body, 'request.method')
                                  OR contains(body, 'UnixNano') OR contains(body, 'url.')
                                  OR contains(body, '"http"') OR contains(body, 'attributes')
                                  OR contains(body, '"ecs'))
        THEN 'semconv'
    WHEN has_shape(flags, 8) AND (contains(body, 'latency') OR contains(body, 'duration')
                                  OR contains(body, 'elapsed') OR contains(body, 'remote')
                                  OR contains(body, 'uri') OR contains(body, 'user-agent')
                                  OR contains(body, 'responseTime') OR contains(body, '"req"')
                                  OR contains(body, '"request"'))
        THEN 'service'
END;
-- Every shape, in the order above, for a line the general rule cannot read (its block's
-- marks aside: a line of no marked shape may be of one the sample missed).
CREATE OR REPLACE TEMP MACRO any_shape() AS 511;

-- The values a line's shape reads, in the order shape_fields takes them: one parse of the
-- line for a list of paths (constant per shape, so DuckDB compiles them once).
CREATE OR REPLACE TEMP MACRO shape_values(shape, doc) AS CASE shape
    WHEN 'envoy' THEN json_extract_string(doc, ['$.start_time', '$.method', '$.path', '$.response_code', '$.duration',
        '$.request_id', '$.x_forwarded_for', '$.downstream_remote_address', '$.user_agent'])
    WHEN 'apigw' THEN json_extract_string(doc, ['$.requestTime', '$.requestTimeEpoch', '$.requestId', '$.httpMethod',
        '$.path', '$.resourcePath', '$.routeKey', '$.status', '$.responseLatency',
        '$.integrationLatency', '$.ip', '$.userAgent', '$.error.responseType', '$.error.message',
        '$.integrationErrorMessage'])
    WHEN 'gcp' THEN json_extract_string(doc, ['$.timestamp', '$.httpRequest.requestMethod', '$.httpRequest.requestUrl',
        '$.httpRequest.status', '$.httpRequest.latency', '$.httpRequest.remoteIp',
        '$.httpRequest.userAgent', '$.trace', '$.severity'])
    WHEN 'kong' THEN json_extract_string(doc, ['$.started_at', '$.request.method', '$.request.uri', '$.request.url',
        '$.response.status', '$.latencies.request', '$.client_ip',
        '$.request.headers."x-request-id"', '$.request.headers."user-agent"', '$.service.name'])
    WHEN 'caddy' THEN json_extract_string(doc, ['$.ts', '$.request.method', '$.request.uri', '$.status', '$.duration',
        '$.request.client_ip', '$.request.remote_ip', '$.request.headers."X-Request-Id"[0]',
        '$.request.headers."User-Agent"[0]', '$.level', '$.msg'])
    WHEN 'traefik' THEN json_extract_string(doc, ['$.StartUTC', '$.StartLocal', '$.time', '$.RequestMethod',
        '$.RequestPath', '$.DownstreamStatus', '$.OriginStatus', '$.Duration',
        '$."request_X-Request-Id"', '$.ClientHost', '$."request_User-Agent"', '$.ServiceName',
        '$."request_X-Forwarded-For"'])
    WHEN 'nginx' THEN json_extract_string(doc, ['$.time_iso8601', '$.time_local', '$.msec', '$.request',
        '$.request_method', '$.request_uri', '$.uri', '$.status', '$.request_time',
        '$.request_id', '$.http_x_request_id', '$.http_x_forwarded_for', '$.remote_addr',
        '$.http_user_agent'])
    -- ECS and OpenTelemetry share their names: nested objects, dotted keys, or attributes
    WHEN 'semconv' THEN list_concat(json_extract_string(doc, ['$."@timestamp"', '$.timeUnixNano', '$.observedTimeUnixNano',
        '$.timestamp',
        '$.http.request.method', '$."http.request.method"', '$.attributes."http.request.method"',
        '$.http.response.status_code', '$."http.response.status_code"',
        '$.attributes."http.response.status_code"',
        '$.url.path', '$."url.path"', '$.attributes."url.path"',
        '$.url.original', '$."url.original"', '$.url.full', '$."url.full"',
        '$.attributes."url.full"',
        '$."http.route"', '$.attributes."http.route"', '$.http.route',
        '$.event.duration', '$."event.duration"',
        '$.client.ip', '$."client.ip"', '$.client.address', '$."client.address"',
        '$.attributes."client.address"',
        '$.user_agent.original', '$."user_agent.original"', '$.attributes."user_agent.original"',
        '$.http.request.id', '$."http.request.id"', '$.trace.id', '$."trace.id"', '$.trace_id',
        '$.traceId',
        '$.service.name', '$."service.name"', '$.resource."service.name"',
        '$.log.level', '$."log.level"', '$.severityText',
        '$.error.type', '$."error.type"', '$.error.code', '$."error.code"',
        '$.error.message', '$."error.message"']), otlp_values(doc))
    WHEN 'service' THEN json_extract_string(doc, ['$.latency', '$.duration', '$.elapsed', '$.remote', '$.uri', '$.url',
        '$.request', '$."user-agent"', '$."X-Request-Id"', '$.req.id', '$.req.method',
        '$.req.url', '$.req.remoteAddress', '$.res.statusCode', '$.responseTime',
        '$.latency_ms', '$.elapsed_ms', '$.remote_addr', '$.ip', '$.level'])
END;

-- OTLP's JSON writes attributes as a list of {key, value: {stringValue | intValue | ...}}:
-- the values semconv reads, in this order, when a line has such a list.
CREATE OR REPLACE TEMP MACRO otlp_attribute(a) AS {
    'k': a ->> '$.key',
    'v': coalesce(a ->> '$.value.stringValue', a ->> '$.value.intValue',
                  a ->> '$.value.doubleValue', a ->> '$.value.boolValue')};
CREATE OR REPLACE TEMP MACRO otlp_values(doc) AS CASE
    WHEN json_type(doc, '$.attributes') = 'ARRAY' THEN list_transform(
        ['http.request.method', 'http.response.status_code', 'url.path', 'url.full',
         'http.route', 'client.address', 'user_agent.original'],
        lambda k: map_from_entries(list_transform(json_extract(doc, '$.attributes[*]'),
                                                  lambda a: otlp_attribute(a)))[k])
END;

-- CLF / nginx time, 10/Jun/2023:15:36:28 +0330: half-hour offsets included (used by the
-- general rule's times and by the text formats).
CREATE OR REPLACE TEMP MACRO clf_ts(t) AS try_strptime(t, '%d/%b/%Y:%H:%M:%S %z')::TIMESTAMPTZ;

-- Units. A duration in seconds, milliseconds or nanoseconds, as ms; a duration written with
-- its unit ("12.3ms", "1.5s", "250µs", Go's "1m2.5s") read by that unit; NaN and infinity
-- are no duration.
-- (NaN and infinity are dropped once, where the duration column is chosen.)
CREATE OR REPLACE TEMP MACRO scaled_ms(t, factor) AS try_cast(t AS DOUBLE) * factor;
CREATE OR REPLACE TEMP MACRO unit_ms(u) AS CASE u
    WHEN 'h' THEN 3600000.0 WHEN 'm' THEN 60000.0 WHEN 's' THEN 1000.0 WHEN 'ms' THEN 1.0
    WHEN 'us' THEN 0.001 WHEN 'µs' THEN 0.001 WHEN 'μs' THEN 0.001 WHEN 'ns' THEN 0.000001
END;
CREATE OR REPLACE TEMP MACRO with_unit_ms(t) AS CASE
    WHEN regexp_full_match(trim(t), '(([0-9]+(\.[0-9]*)?|\.[0-9]+) ?(h|ms|m|s|us|µs|μs|ns))+')
    THEN list_sum(list_transform(
        regexp_extract_all(trim(t), '([0-9.]+) ?(h|ms|m|s|us|µs|μs|ns)', 0),
        lambda x: regexp_extract(x, '^[0-9.]+')::DOUBLE * unit_ms(regexp_extract(x, '[^0-9. ]+$'))))
END;
-- A service log's duration: with a unit it is read; a bare number has none that can be known.
CREATE OR REPLACE TEMP MACRO service_duration_ms(t) AS with_unit_ms(t);
CREATE OR REPLACE TEMP MACRO unknown_unit(t) AS
    nullif(regexp_extract(t, '^\s*(-?[0-9]+(\.[0-9]+)?)\s*$', 1), '');

-- Clients: the first X-Forwarded-For entry; an address without its port ("[::1]:443",
-- "10.0.0.1:5432"); "-" and "" are no address.
-- A macro argument is copied wherever the macro names it, and binding the statement (for
-- every file) costs what the copies add up to: nested macros that name their argument twice
-- double it at each level (nullif, itself a macro, names its first argument twice).
CREATE OR REPLACE TEMP MACRO no_dash(t) AS CASE WHEN trim(t) NOT IN ('-', '') THEN trim(t) END;
CREATE OR REPLACE TEMP MACRO first_forwarded(t) AS no_dash(split_part(t, ',', 1));
CREATE OR REPLACE TEMP MACRO without_port(t) AS
    no_dash(regexp_replace(t, '^\[([^\]]*)\](?::[0-9]+)?$|^([^:]+):[0-9]+$', '\1\2'));

-- A request line ("GET /p?q=1 HTTP/1.1"): its method and target.
CREATE OR REPLACE TEMP MACRO request_line_method(t) AS
    nullif(regexp_extract(t, '^([A-Za-z]+) ', 1), '');
CREATE OR REPLACE TEMP MACRO request_line_target(t) AS
    nullif(regexp_extract(t, '^[A-Za-z]+ (\S+)', 1), '');
-- A full URL's path and query (scheme and host dropped); a path stays as it is.
CREATE OR REPLACE TEMP MACRO url_target(u) AS
    nullif(regexp_replace(u, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*', ''), '');
-- A route key names its method first ("GET /pets/{id}"); "$default" is no route.
CREATE OR REPLACE TEMP MACRO route_key_route(t) AS
    CASE WHEN contains(t, '/') THEN regexp_replace(t, '^[A-Z]+ ', '') END;
-- pino writes levels as numbers.
CREATE OR REPLACE TEMP MACRO level_name(t) AS CASE t
    WHEN '10' THEN 'trace' WHEN '20' THEN 'debug' WHEN '30' THEN 'info' WHEN '40' THEN 'warn'
    WHEN '50' THEN 'error' WHEN '60' THEN 'fatal' ELSE t
END;

-- The normalised columns from a shape's values (v, in shape_values order), and the shape's
-- name as stored (ECS and OpenTelemetry are read alike but named apart). Every shape
-- yields the same struct; a column a shape does not know is NULL (the general rule may
-- still fill it).
CREATE OR REPLACE TEMP MACRO shape_fields(shape, v) AS CASE shape
    WHEN 'envoy' THEN {
        'shape': 'envoy',
        'ts_text': v[1], 'method': v[2], 'path': v[3], 'route': NULL, 'status': v[4],
        'duration_ms': scaled_ms(v[5], 1), 'duration_raw': NULL, 'request_id': v[6],
        'client_ip': coalesce(first_forwarded(v[7]), without_port(v[8])), 'user_agent': v[9],
        'service': NULL, 'level': NULL, 'message': NULL,
        'error_type': NULL, 'error_code': NULL, 'error_message': NULL}
    WHEN 'apigw' THEN {
        'shape': 'apigw',
        'ts_text': coalesce(v[1], v[2]), 'method': v[4],
        'path': coalesce(v[5], v[6], route_key_route(v[7])),
        'route': coalesce(v[6], route_key_route(v[7])), 'status': v[8],
        'duration_ms': coalesce(scaled_ms(v[9], 1), scaled_ms(v[10], 1)), 'duration_raw': NULL,
        'request_id': v[3], 'client_ip': without_port(v[11]), 'user_agent': v[12],
        'service': NULL, 'level': NULL, 'message': coalesce(v[14], v[15]),
        'error_type': NULL, 'error_code': NULL, 'error_message': NULL}
    WHEN 'gcp' THEN {
        'shape': 'gcp',
        'ts_text': v[1], 'method': v[2], 'path': url_target(v[3]), 'route': NULL, 'status': v[4],
        'duration_ms': with_unit_ms(v[5]), 'duration_raw': NULL,
        'request_id': nullif(regexp_extract(v[8], '([^/]+)$', 1), ''),
        'client_ip': without_port(v[6]), 'user_agent': v[7],
        'service': NULL, 'level': v[9], 'message': NULL,
        'error_type': NULL, 'error_code': NULL, 'error_message': NULL}
    WHEN 'kong' THEN {
        'shape': 'kong',
        'ts_text': v[1], 'method': v[2], 'path': coalesce(v[3], url_target(v[4])), 'route': NULL,
        'status': v[5], 'duration_ms': scaled_ms(v[6], 1), 'duration_raw': NULL,
        'request_id': v[8], 'client_ip': without_port(v[7]), 'user_agent': v[9],
        'service': v[10], 'level': NULL, 'message': NULL,
        'error_type': NULL, 'error_code': NULL, 'error_message': NULL}
    WHEN 'caddy' THEN {
        'shape': 'caddy',
        'ts_text': v[1], 'method': v[2], 'path': v[3], 'route': NULL, 'status': v[4],
        'duration_ms': scaled_ms(v[5], 1000), 'duration_raw': NULL, 'request_id': v[8],
        'client_ip': coalesce(without_port(v[6]), without_port(v[7])), 'user_agent': v[9],
        'service': NULL, 'level': v[10], 'message': v[11],
        'error_type': NULL, 'error_code': NULL, 'error_message': NULL}
    WHEN 'traefik' THEN {
        'shape': 'traefik',
        'ts_text': coalesce(v[1], v[2], v[3]), 'method': v[4], 'path': v[5], 'route': NULL,
        'status': coalesce(v[6], v[7]), 'duration_ms': scaled_ms(v[8], 0.000001),
        'duration_raw': NULL, 'request_id': v[9],
        'client_ip': coalesce(first_forwarded(v[13]), without_port(v[10])), 'user_agent': v[11],
        'service': v[12], 'level': NULL, 'message': NULL,
        'error_type': NULL, 'error_code': NULL, 'error_message': NULL}
    WHEN 'nginx' THEN {
        'shape': 'nginx',
        'ts_text': coalesce(v[1], v[2], v[3]),
        'method': coalesce(v[5], request_line_method(v[4])),
        'path': coalesce(v[6], v[7], request_line_target(v[4])), 'route': NULL,
        'status': v[8], 'duration_ms': scaled_ms(v[9], 1000), 'duration_raw': NULL,
        'request_id': coalesce(no_dash(v[10]), no_dash(v[11])),
        'client_ip': coalesce(first_forwarded(v[12]), without_port(v[13])),
        'user_agent': no_dash(v[14]),
        'service': NULL, 'level': NULL, 'message': NULL,
        'error_type': NULL, 'error_code': NULL, 'error_message': NULL}
    WHEN 'semconv' THEN {
        'shape': CASE WHEN v[1] IS NOT NULL THEN 'ecs' ELSE 'otel' END,
        'ts_text': coalesce(v[1], v[2], v[3], v[4]),
        'method': coalesce(v[5], v[6], v[7], v[50]),
        'path': coalesce(v[11], v[12], v[13], v[52], url_target(v[14]), url_target(v[15]),
                         url_target(v[16]), url_target(v[17]), url_target(v[18]),
                         url_target(v[53])),
        'route': coalesce(v[19], v[20], v[21], v[54]),
        'status': coalesce(v[8], v[9], v[10], v[51]),
        'duration_ms': coalesce(scaled_ms(v[22], 0.000001), scaled_ms(v[23], 0.000001)),
        'duration_raw': NULL,
        'request_id': coalesce(v[32], v[33], v[34], v[35], v[36], v[37]),
        'client_ip': without_port(coalesce(v[24], v[25], v[26], v[27], v[28], v[55])),
        'user_agent': coalesce(v[29], v[30], v[31], v[56]),
        'service': coalesce(v[38], v[39], v[40]), 'level': coalesce(v[41], v[42], v[43]),
        'message': NULL,
        'error_type': coalesce(v[44], v[45]), 'error_code': coalesce(v[46], v[47]),
        'error_message': coalesce(v[48], v[49])}
    -- service logs: the general rule reads time, method, status, path and ids; these are
    -- what it does not know (units, a path under uri/url/request, pino's req/res)
    WHEN 'service' THEN {
        'shape': 'service',
        'ts_text': NULL, 'method': v[11],
        'path': coalesce(v[5], CASE WHEN starts_with(v[7], '/') THEN v[7] END,
                         url_target(v[6]), v[12]),
        'route': NULL, 'status': v[14],
        'duration_ms': coalesce(scaled_ms(v[16], 1), scaled_ms(v[17], 1), scaled_ms(v[15], 1),
                                service_duration_ms(v[1]), service_duration_ms(v[2]),
                                service_duration_ms(v[3])),
        'duration_raw': coalesce(unknown_unit(v[1]), unknown_unit(v[2]), unknown_unit(v[3])),
        'request_id': coalesce(v[9], v[10]),
        'client_ip': coalesce(without_port(v[4]), without_port(v[18]), without_port(v[19]),
                              without_port(v[13])),
        'user_agent': v[8], 'service': NULL, 'level': level_name(v[20]), 'message': NULL,
        'error_type': NULL, 'error_code': NULL, 'error_message': NULL}
END;
