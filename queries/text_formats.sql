-- name: define_text_macros
-- Temporary macros that read a text access-log line (one not starting with '{' or '[') as
-- the flat JSON record the ingest statement reads, so a text line is normalised by the same
-- rules as a JSON one. Regular expressions only (RE2): no per-line Python.
--
-- text_record(line) is the entry point: a JSON object (as text) or NULL when the line is in no
-- known text format. Its keys: timestamp, method, path, status, client_ip, user_agent,
-- request_id, duration_ms, duration_raw, level, message, error_code, referer, bytes, host and
-- text_format ('combined', 'common' or 'logfmt'); a key the line lacks is null.
-- timestamp is UTC ISO-8601 with a 'Z' for CLF times (their own offset already applied) and,
-- for logfmt, the value as written (RFC 3339 or epoch, read by parse_ts like a JSON time).
-- What a line's regular expressions capture is computed once and bound to a lambda parameter
-- (list_transform over a one-element list): a macro argument is re-evaluated wherever it is
-- used, and DuckDB does not share common subexpressions inside CASE.

-- Shared with the JSON side, defined before this file (queries/shapes.sql): clf_ts,
-- without_port, with_unit_ms and unknown_unit. The ingest macros, defined after it, use
-- text_record.
CREATE OR REPLACE TEMP MACRO utc_iso(ts) AS strftime(timezone('UTC', ts), '%Y-%m-%dT%H:%M:%SZ');

-- The first entry of an X-Forwarded-For list, when it is an address: `-`, `unknown` or an
-- obfuscated name is no client, and the connecting host is used instead.
CREATE OR REPLACE TEMP MACRO forwarded_client(x) AS without_port(regexp_extract(x,
    '^\s*(\[?[0-9A-Fa-f:.]*[.:][0-9A-Fa-f:.]*\]?(?::[0-9]+)?)\s*(?:,|$)', 1));
-- A request target in absolute form (a proxy request, `GET http://host/p?q HTTP/1.1`) is the
-- path after its scheme and host, query kept, as for a full URL in a JSON log.
CREATE OR REPLACE TEMP MACRO request_target(p) AS CASE
    WHEN regexp_matches(p, '^[A-Za-z][A-Za-z0-9+.-]*://')
        THEN coalesce(nullif(regexp_replace(p, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*', ''), ''), '/')
    ELSE p
END;

-- CLF and combined, with nginx's and Apache's variants: an optional leading `vhost[:port] `,
-- `"referer" "user-agent"`, then any quoted fields (the first is X-Forwarded-For), then an
-- optional request time; anything after that is ignored. A quoted field holds `\"` and `\\`
-- (Apache) or `\xHH` (nginx) escapes, kept as written. A request line that is not
-- `METHOD target [HTTP/x]` (`"-"`, a scanner's TLS handshake) gives no method or path, but the
-- line is still a request. `combined` captures the quote that opens the referer, so an empty
-- referer and user agent still mark the line as combined.
CREATE OR REPLACE TEMP MACRO clf_fields(line) AS regexp_extract(line,
    '^(?:(\S+) )?(\S+) \S+ \S+ \[([^\]]*)\] '
    || '"(?:([A-Z]+) ((?:[^\s"\\]|\\.)+)(?: HTTP/[0-9.]+)?|(?:[^"\\]|\\.)*)" '
    || '([0-9]{3}) ([0-9]+|-)'
    || '(?:( ")((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"'
    || '(?: "((?:[^"\\]|\\.)*)")?(?: "(?:[^"\\]|\\.)*")*)?'
    || '(?: ([0-9]+(?:\.[0-9]+)?))?(?:\s.*)?$',
    ['vhost', 'host', 'time', 'method', 'path', 'status', 'bytes', 'combined', 'referer',
     'user_agent', 'forwarded', 'request_time']);
-- `-` is how both servers write an absent quoted value.
CREATE OR REPLACE TEMP MACRO clf_value(v) AS CASE WHEN v NOT IN ('', '-') THEN v END;
-- A request time with a decimal point is nginx's $request_time (seconds); a bare integer may
-- be Apache's %D (µs) or %T (s), so it is kept as written instead.
CREATE OR REPLACE TEMP MACRO clf_json(m) AS json_object(
    'timestamp', coalesce(utc_iso(clf_ts(m.time)), m.time),
    'method', nullif(m.method, ''),
    'path', request_target(nullif(m.path, '')),
    'status', m.status::SMALLINT,
    'client_ip', coalesce(forwarded_client(clf_value(m.forwarded)), without_port(m.host)),
    'user_agent', clf_value(m.user_agent),
    'duration_ms', CASE WHEN contains(m.request_time, '.')
                        THEN round(m.request_time::DOUBLE * 1e3, 6) END,
    'duration_raw', CASE WHEN m.request_time <> '' AND NOT contains(m.request_time, '.')
                         THEN m.request_time END,
    'referer', clf_value(m.referer),
    'bytes', try_cast(m.bytes AS BIGINT),
    'host', nullif(regexp_replace(m.vhost, ':[0-9]+$', ''), ''),
    'text_format', CASE WHEN m.combined <> '' THEN 'combined' ELSE 'common' END);
CREATE OR REPLACE TEMP MACRO clf_record(line) AS list_transform([clf_fields(line)],
    lambda m: CASE WHEN m.status <> '' THEN clf_json(m) END)[1];

-- logfmt: `key=value` pairs, a value double-quoted when it holds spaces. An optional syslog
-- prefix gives the time: Heroku's `2026-11-10T09:00:00.123456+00:00 heroku[router]: ` or an
-- RFC 5424 drain's `<158>1 2026-11-10T09:00:00+00:00 host heroku router - `. After it the
-- line must start with a pair: prose that merely holds a `key=value` is not logfmt.
CREATE OR REPLACE TEMP MACRO logfmt_start(line) AS regexp_extract(line,
    '^(?:<[0-9]{1,3}>[0-9]* )?'
    || '(?:([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:?[0-9]{2})) '
    || '(?:[^\s=]+ [^\s=]+ [^\s=]+ [^\s=]+|[^\s=]+:) )?([^\s="]+)=',
    ['prefix_time', 'first_key']);
-- A quoted value's escapes are Go's (JSON's) where they parse as JSON; otherwise only `\"`
-- is undone and the rest (`\xHH`) kept as written. An empty value is no value.
CREATE OR REPLACE TEMP MACRO logfmt_value(v) AS CASE
    WHEN NOT starts_with(v, '"') THEN nullif(v, '')
    WHEN json_valid(v) THEN nullif(json_extract_string(v, '$'), '')
    WHEN length(v) < 2 OR NOT ends_with(v, '"') THEN v  -- an unterminated quote, kept
    ELSE nullif(replace(v[2:-2], '\"', '"'), '')
END;
-- The pairs of a line: keys, and values already unquoted, in order. The pairs are found
-- whole (group 0: RE2 finds a match's bounds without its slower capturing engine) and split
-- at their first '=', which a key cannot hold.
CREATE OR REPLACE TEMP MACRO logfmt_pairs(line) AS list_transform(
    [regexp_extract_all(line, '[^\s="]+=(?:"(?:[^"\\]|\\.)*"|\S*)')],
    lambda pairs: {
        'keys': list_transform(pairs, lambda kv: split_part(kv, '=', 1)),
        'vals': list_transform(list_transform(pairs, lambda kv: kv[strpos(kv, '=') + 1:]),
                               lambda v: logfmt_value(v))})[1];
-- The value of the first pair with this key (keys may repeat; the first one wins).
CREATE OR REPLACE TEMP MACRO lf(p, key) AS p.vals[list_position(p.keys, key)];
-- Heroku's router line (`dyno= connect= service=`): `service` is its time in the app, `at`
-- the level, and `code`/`desc` (H12, "Request timeout") the error of an `at=error` line.
CREATE OR REPLACE TEMP MACRO heroku_router(p) AS list_has_all(p.keys, ['dyno', 'connect', 'service']);
CREATE OR REPLACE TEMP MACRO logfmt_duration(p) AS coalesce(
    lf(p, 'duration'), lf(p, 'latency'), lf(p, 'elapsed'),
    CASE WHEN heroku_router(p) THEN lf(p, 'service') END);
CREATE OR REPLACE TEMP MACRO logfmt_json(p) AS json_object(
        'timestamp', coalesce(lf(p, 'time'), lf(p, 'ts'), lf(p, 't'), nullif(p.prefix_time, '')),
        'method', upper(lf(p, 'method')),
        'path', request_target(coalesce(lf(p, 'path'), lf(p, 'uri'), lf(p, 'url'))),
        'status', try_cast(lf(p, 'status') AS SMALLINT),
        'client_ip', coalesce(forwarded_client(lf(p, 'fwd')),
                              forwarded_client(lf(p, 'client_ip')),
                              forwarded_client(lf(p, 'remote_addr')),
                              forwarded_client(lf(p, 'remote'))),
        'user_agent', coalesce(lf(p, 'user_agent'), lf(p, 'user-agent')),
        'request_id', coalesce(lf(p, 'request_id'), lf(p, 'req_id'), lf(p, 'requestId')),
        'duration_ms', coalesce(try_cast(lf(p, 'duration_ms') AS DOUBLE), with_unit_ms(logfmt_duration(p))),
        'duration_raw', unknown_unit(logfmt_duration(p)),
        'level', coalesce(lf(p, 'level'), lf(p, 'lvl'),
                          CASE WHEN heroku_router(p) THEN lf(p, 'at') END),
        'message', coalesce(lf(p, 'msg'), lf(p, 'message'),
                            CASE WHEN heroku_router(p) THEN lf(p, 'desc') END),
        'error_code', CASE WHEN heroku_router(p) THEN lf(p, 'code') END,
        'referer', lf(p, 'referer'),
        'bytes', try_cast(lf(p, 'bytes') AS BIGINT),
        'host', lf(p, 'host'),
        'text_format', 'logfmt');
-- A line is logfmt when it starts with a pair, has at least two, and one of them is a field
-- triage reads (so `a=1 b=2` prose-like noise is not claimed).
CREATE OR REPLACE TEMP MACRO logfmt_record(line) AS list_transform(
    [struct_insert(logfmt_pairs(line), prefix_time := logfmt_start(line).prefix_time,
                   first_key := logfmt_start(line).first_key)],
    lambda p: CASE WHEN p.first_key <> '' AND len(p.keys) >= 2 AND list_has_any(p.keys, [
            'time', 'ts', 't', 'level', 'lvl', 'at', 'msg', 'message', 'method', 'path', 'uri',
            'status', 'request_id', 'req_id', 'fwd', 'duration', 'latency', 'elapsed'])
        THEN logfmt_json(p) END)[1];

-- The cheapest test first: a CLF line has `] "` (the time's end, the request's start), and a
-- logfmt line an `=`. A line with `] "` that is not CLF may still be logfmt.
CREATE OR REPLACE TEMP MACRO text_record(line) AS coalesce(
    CASE WHEN contains(line, '] "') THEN clf_record(line) END,
    CASE WHEN contains(line, '=') THEN logfmt_record(line) END);
