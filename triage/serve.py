"""Starting `triage serve`: check what it was given, bind, print where it listens, run.

The pages are web.py's; this is only the server's life: a store that exists, a token off
localhost, a socket bound before anything is printed (so the printed address works, port 0
included), and uvicorn to run the app until Ctrl-C.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path

from triage.exceptions import TriageError
from triage.web_safety import LOCAL_NAMES

MIN_TOKEN = 16


def is_local(host: str) -> bool:
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_server(
    db: Path | None,  # a store, or a lake's directory
    *,
    host: str,
    port: int,
    token: str | None,
    allowed_hosts: set[str],
    say: Callable[[str], None],
) -> None:
    import uvicorn

    from triage.lake import open_reader
    from triage.store import default_store_path
    from triage.web import create_app

    path = Path(db) if db is not None else default_store_path()
    open_reader(path).close()  # no store, not a store: say so now
    if not is_local(host) and not token:
        raise TriageError(
            f"listening on {host} shows customer traffic to whoever reaches it: pass --token "
            "(or TRIAGE_TOKEN), e.g. --token $(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe())')"
        )
    if token is not None and len(token) < MIN_TOKEN:
        raise TriageError(
            f"--token is too short to guard anything: give {MIN_TOKEN} characters or more"
        )
    names = set(allowed_hosts) | {host}
    if host in ("0.0.0.0", "::"):
        names |= {socket.gethostname(), socket.getfqdn()}
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    link = f"http://{shown}:{bound}/" + (f"?token={token}" if token else "")
    what = "lake" if path.is_dir() else "store"
    say(f"triage serve: {link} on the {what} {path} (read-only; Ctrl-C stops it)")
    app = create_app(path, token=token, allowed_hosts=names)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise TriageError(
                f"port {port} on {host} is in use: pass --port N (or --port 0 for any free one)"
            ) from None
        raise TriageError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pass --host and --port"
        ) from None
    return sock
