"""HTTP Digest authentication (RFC 7616, MD5, qop=auth) as stock Antminer web UIs use it.

Nonces are stateless: a timestamp plus an HMAC of it under a per-process key, so a
thousand simulated web servers need no nonce tables and any nonce they issued verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

_KEY = secrets.token_bytes(16)
NONCE_TTL_S = 3600


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def new_nonce() -> str:
    stamp = f"{int(time.time()):x}"
    return stamp + hmac.new(_KEY, stamp.encode(), "sha256").hexdigest()[:24]


def _nonce_ok(nonce: str) -> bool:
    stamp, mac = nonce[:-24], nonce[-24:]
    expected = hmac.new(_KEY, stamp.encode(), "sha256").hexdigest()[:24]
    if not stamp or not hmac.compare_digest(mac, expected):
        return False
    try:
        return time.time() - int(stamp, 16) < NONCE_TTL_S
    except ValueError:
        return False


def parse_params(header: str) -> dict[str, str]:
    """Split `k=v, k="v, with comma"` pairs of an Authorization header."""
    params: dict[str, str] = {}
    i, n = 0, len(header)
    while i < n:
        while i < n and header[i] in " ,":
            i += 1
        eq = header.find("=", i)
        if eq < 0:
            break
        key = header[i:eq].strip().lower()
        i = eq + 1
        if i < n and header[i] == '"':
            end = header.find('"', i + 1)
            if end < 0:
                break
            params[key] = header[i + 1 : end]
            i = end + 1
        else:
            end = header.find(",", i)
            end = n if end < 0 else end
            params[key] = header[i:end].strip()
            i = end
    return params


class DigestRealm:
    """One realm with one user, checking `Authorization: Digest ...` headers."""

    def __init__(self, realm: str, username: str, password: str) -> None:
        self.realm = realm
        self.username = username
        self._ha1 = _md5(f"{username}:{realm}:{password}")

    def challenge(self) -> str:
        return (
            f'Digest realm="{self.realm}", charset="UTF-8", nonce="{new_nonce()}", '
            'qop="auth", algorithm="MD5"'
        )

    def verify(self, method: str, authorization: str | None) -> bool:
        if not authorization or authorization[:7].lower() != "digest ":
            return False
        p = parse_params(authorization[7:])
        if p.get("username") != self.username or p.get("realm") != self.realm:
            return False
        nonce, uri, response = p.get("nonce", ""), p.get("uri", ""), p.get("response", "")
        if not nonce or not uri or not _nonce_ok(nonce):
            return False
        ha2 = _md5(f"{method}:{uri}")
        qop = p.get("qop")
        if qop == "auth":
            expected = _md5(
                f"{self._ha1}:{nonce}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}"
            )
        elif qop is None:
            expected = _md5(f"{self._ha1}:{nonce}:{ha2}")
        else:
            return False
        return hmac.compare_digest(expected, response.lower())
