"""The dashboards' browser session: a cookie that carries a bearer token's
identity, and the CSRF token that every write made with it must carry
(docs/dashboards.md, "Session and CSRF").

The session cookie holds the token sealed with AES-GCM under a deployment
secret of the trust store (`SESSION_KEY`), with the moment it was issued:
no server-side session table, so any process of a deployment (several
query workers) reads it, and the token is re-checked on every request, so
a revoked or expired token ends its sessions at once. The sealed form keeps
the token itself out of the cookie jar, and a session ends `SESSION_HOURS`
after sign-in whatever the token's own expiry. The cookie is HttpOnly
(no script reads it), SameSite=Strict (no other site's page sends it) and
Secure when the request came over HTTPS.

CSRF: a signed double-submit token. The `ml_csrf` cookie holds a random
nonce; the token a form or a script sends back is HMAC(key, nonce | session
cookie), so it is bound to this browser's session and cannot be made by
anyone without the key. Every write made with the cookie (sign-in and
sign-out included) must carry it: a form field `csrf_token` or the header
`X-CSRF-Token`. A request with a bearer token needs none (no browser sends
one on its own).

Shared plumbing (services/*.py): services/http.py reads the session for the
API, the dashboard pages (services/query/ui/) set and clear it.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
import time
from hashlib import sha256

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from infra.tokens import Principal, TokenStore
from infra.trust import secret
from services.errors import Forbidden

SESSION_COOKIE = "ml_session"
CSRF_COOKIE = "ml_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_KEY = "ui_session"  # the trust store's secret that seals sessions and signs CSRF tokens
SESSION_HOURS = 8  # a school day: a page left open on a shared computer does not stay signed in for long
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NONCE = 12  # AES-GCM's nonce, in bytes
_ISSUED = struct.Struct(">Q")  # seconds since the epoch, sealed with the token


def session_key(conn: HTTPConnection) -> bytes:
    """The process's copy of the deployment's session secret, read once."""
    state = conn.app.state
    key: bytes | None = getattr(state, "session_key", None)
    if key is None:
        key = state.session_key = secret(state.ledger.trust, SESSION_KEY)
    return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(key: bytes, token: str, issued: float | None = None) -> str:
    """The session cookie's value for `token`, issued now (or at `issued`)."""
    nonce = secrets.token_bytes(_NONCE)
    plain = _ISSUED.pack(int(time.time() if issued is None else issued)) + token.encode()
    return _b64(nonce + AESGCM(key).encrypt(nonce, plain, SESSION_COOKIE.encode()))


def unseal(key: bytes, value: str) -> str | None:
    """The token a session cookie carries; None when it was not sealed with
    this key, was altered, or is older than SESSION_HOURS."""
    try:
        raw = _unb64(value)
        plain = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], SESSION_COOKIE.encode())
    except (ValueError, InvalidTag):
        return None
    if len(plain) <= _ISSUED.size:
        return None
    (issued,) = _ISSUED.unpack(plain[: _ISSUED.size])
    if not 0 <= time.time() - issued < SESSION_HOURS * 3600:
        return None
    try:
        return plain[_ISSUED.size :].decode()
    except UnicodeDecodeError:
        return None


def session_token(conn: HTTPConnection) -> str | None:
    """The token of the request's session cookie, if it has a valid one."""
    value = conn.cookies.get(SESSION_COOKIE)
    return unseal(session_key(conn), value) if value else None


def session_principal(request: Request, tokens: TokenStore) -> Principal:
    """The caller of an API request that came with the session cookie and no
    Authorization header (services/http.py `authenticate`): 401 as for a bad
    token, and 403 for a write without the session's CSRF token."""
    token = session_token(request)
    principal = tokens.authenticate(token) if token is not None else None
    if principal is None:
        ended = "the session has ended or its token was revoked: sign in again"
        raise StarletteHTTPException(401, ended, {"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS and not csrf_valid(request, request.headers.get(CSRF_HEADER)):
        raise Forbidden(f"a write made with the session cookie needs its {CSRF_HEADER} header")
    return principal


def csrf_for(key: bytes, nonce: str, session: str) -> str:
    return _b64(hmac.new(key, f"{nonce}|{session}".encode(), sha256).digest())


def csrf_valid(conn: HTTPConnection, sent: str | None) -> bool:
    """Whether `sent` is the CSRF token of this browser's nonce and session."""
    nonce = conn.cookies.get(CSRF_COOKIE)
    if not nonce or not sent:
        return False
    expected = csrf_for(session_key(conn), nonce, conn.cookies.get(SESSION_COOKIE, ""))
    return hmac.compare_digest(expected.encode(), sent.encode("utf-8", "replace"))


def _secure(conn: HTTPConnection) -> bool:
    return conn.url.scheme == "https"


def set_cookie(conn: HTTPConnection, response: Response, name: str, value: str) -> None:
    # No Max-Age: a browser session cookie, gone when the browser closes; the
    # sealed issue time bounds a session that outlives that.
    response.set_cookie(name, value, path="/", httponly=True, samesite="strict", secure=_secure(conn))


def clear_cookie(conn: HTTPConnection, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=_secure(conn))


def new_csrf(conn: HTTPConnection, response: Response, session: str = "") -> str:
    """Give the browser a fresh nonce and return the CSRF token that goes with
    it and `session` (the session cookie value the browser will then hold)."""
    nonce = secrets.token_urlsafe(16)
    set_cookie(conn, response, CSRF_COOKIE, nonce)
    return csrf_for(session_key(conn), nonce, session)


def current_csrf(conn: HTTPConnection) -> str | None:
    """The CSRF token for the nonce and session the browser already holds."""
    nonce = conn.cookies.get(CSRF_COOKIE)
    if not nonce:
        return None
    return csrf_for(session_key(conn), nonce, conn.cookies.get(SESSION_COOKIE, ""))
