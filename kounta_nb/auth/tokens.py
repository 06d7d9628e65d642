"""OAuth tokens and the token file.

A :class:`Token` never shows a secret in its ``repr``. :class:`TokenStore` is the JSON token file
(``settings.token_file()``): ``0600`` in a ``0700`` directory whatever existed before, replaced
atomically on every write, one entry per ``(api_base, company_id)``. A damaged file or entry is
never a dead end: it gives one line naming the file, the other entries keep working, and the next
login sets a damaged file aside (``tokens.json.corrupt-<time>``) and starts a new one.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import AuthError, ConfigError, DataFileError, warn
from ..files import move_aside, private_dir, write_private_text

__all__ = ["Token", "TokenStore"]


@dataclass(repr=False)
class Token:
    """An OAuth access token (plus refresh token) for one company.

    ``repr``/``str`` never show the secrets: ``Token(company=123, expires_at=…, refreshable=True)``.
    """

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None
    token_type: str = "Bearer"
    company_id: int | None = None

    def expired(self, margin: float = 0.0, *, now: Callable[[], float] = time.time) -> bool:
        """True when the token has expired, or will within ``margin`` seconds."""
        return self.expires_at is not None and now() + margin >= self.expires_at

    @property
    def refreshable(self) -> bool:
        """Whether a refresh token is available."""
        return bool(self.refresh_token)

    @classmethod
    def from_response(
        cls,
        body: dict[str, Any],
        *,
        previous: Token | None = None,
        now: Callable[[], float] = time.time,
    ) -> Token:
        """Build a token from a ``/token`` answer, keeping ``previous``'s refresh token when the
        answer has none (a refresh response may omit it)."""
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError("The Kounta token endpoint answered without an access token.")
        expires_in = body.get("expires_in")
        try:
            expires_at = now() + float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            expires_at = None
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token") or (previous.refresh_token if previous else None),
            expires_at=expires_at,
            token_type=str(body.get("token_type") or "Bearer"),
            company_id=previous.company_id if previous else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by :class:`TokenStore` (contains secrets: only for the 0600 file)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "token_type": self.token_type,
            "company_id": self.company_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        """Inverse of :meth:`to_dict`; ``ValueError`` (one sentence) for a malformed entry."""
        if not isinstance(data, Mapping):
            raise ValueError("the entry is not an object")
        access, refresh = data.get("access_token"), data.get("refresh_token")
        expires, kind, company = data.get("expires_at"), data.get("token_type"), data.get("company_id")
        if not isinstance(access, str) or not (access or refresh):
            raise ValueError("the entry has no access token")
        if refresh is not None and not isinstance(refresh, str):
            raise ValueError("its refresh token is not text")
        if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int | float)):
            raise ValueError("its expiry is not a number")
        if company is not None and (isinstance(company, bool) or not isinstance(company, int)):
            raise ValueError("its company id is not a number")
        return cls(
            access_token=access,
            refresh_token=refresh,
            expires_at=float(expires) if expires is not None else None,
            token_type=kind if isinstance(kind, str) and kind else "Bearer",
            company_id=company,
        )

    def __repr__(self) -> str:
        when = (
            datetime.fromtimestamp(self.expires_at, UTC).isoformat(timespec="seconds")
            if self.expires_at is not None
            else None
        )
        return f"Token(company={self.company_id}, expires_at={when}, refreshable={self.refreshable})"

    __str__ = __repr__


class TokenStore:
    """The 0600 JSON token file (``settings.token_file()``, directory 0700), one entry per
    ``(api_base, company_id)``; every write replaces the file atomically.

    Damage: a file that is not the token file's JSON makes :meth:`load` raise one
    :class:`DataFileError` naming it; :meth:`save` sets it aside (one :class:`KountaWarning`)
    and starts a new one, so logging in again always works. A malformed entry is skipped by
    :meth:`load` (for another company) and :meth:`companies`, raises one line when it is the
    company asked for, and is left as it is by writes to other entries.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """Where the file lives (resolved from the environment when not given)."""
        return self._path if self._path is not None else settings.token_file()

    @staticmethod
    def _key(api_base: str, company_id: int | None) -> str:
        return f"{api_base.rstrip('/')}/|{company_id}"

    def _prefix(self, api_base: str) -> str:
        return self._key(api_base, None).rsplit("|", 1)[0] + "|"

    def _read(self) -> dict[str, Any]:
        """The raw entries; DataFileError naming the file when it is not a token file."""
        path = self.path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
            raise DataFileError(
                f"The token file {path} cannot be read ({reason}): log in again to replace it.", path
            ) from None
        self._tighten(path)
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        entries = data.get("tokens", {}) if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            raise DataFileError(
                f"The token file {path} is damaged (not a kounta_nb token file): log in again "
                "to replace it.", path,
            )  # fmt: skip
        return entries

    @staticmethod
    def _tighten(path: Path) -> None:
        """A token file left readable by others (an older version, a copy) is made 0600 in 0700."""
        try:
            if stat.S_IMODE(path.stat().st_mode) != 0o600:
                path.chmod(0o600)
            private_dir(path.parent)
        except OSError:
            pass

    def _read_for_write(self) -> dict[str, Any]:
        try:
            return self._read()
        except DataFileError:
            aside = move_aside(self.path)
            warn(f"The token file {self.path} was damaged; it was moved to {aside.name} and a new "
                 "one started.")  # fmt: skip
            return {}

    def _write(self, entries: dict[str, Any]) -> None:
        text = json.dumps({"version": 1, "tokens": entries}, indent=1, sort_keys=True)
        write_private_text(self.path, text)

    def _token(self, entry: Any, company_id: int | None) -> Token:
        try:
            return Token.from_dict(entry)
        except ValueError as exc:
            who = f"company {company_id}" if company_id is not None else "a saved login"
            raise DataFileError(
                f"The entry for {who} in the token file {self.path} is malformed ({exc}): log in "
                "again to replace it.", self.path,
            ) from None  # fmt: skip

    def _valid(self, entries: Mapping[str, Any], api_base: str) -> list[tuple[float, Token]]:
        """The well-formed entries of ``api_base`` with their ``saved_at`` (malformed ones skipped)."""
        out = []
        prefix = self._prefix(api_base)
        for key, entry in entries.items():
            if not key.startswith(prefix):
                continue
            try:
                token = Token.from_dict(entry)
            except ValueError:
                continue
            saved = entry.get("saved_at") if isinstance(entry, dict) else None
            good = isinstance(saved, int | float) and not isinstance(saved, bool)
            out.append((float(saved) if good and saved is not None else 0.0, token))
        return out

    def load(self, api_base: str, company_id: int | None = None) -> Token | None:
        """The saved token for that company, or the most recently saved well-formed one for
        ``api_base``; None when there is none."""
        with self._lock:
            entries = self._read()
        if company_id is not None:
            key = self._key(api_base, company_id)
            return self._token(entries[key], company_id) if key in entries else None
        found = self._valid(entries, api_base)
        return max(found, key=lambda pair: pair[0])[1] if found else None

    def save(self, api_base: str, token: Token) -> None:
        """Store (or replace) the entry for ``token.company_id`` (other entries are kept as they are)."""
        if token.company_id is None:
            raise ConfigError("A token can only be saved once its company is known.")
        with self._lock:
            entries = self._read_for_write()
            entries[self._key(api_base, token.company_id)] = {**token.to_dict(), "saved_at": time.time()}
            self._write(entries)

    def delete(self, api_base: str, company_id: int | None = None) -> None:
        """Forget one company's token, or every token for ``api_base`` when no company is given."""
        with self._lock:
            entries = self._read_for_write()
            if company_id is not None:
                entries.pop(self._key(api_base, company_id), None)
            else:
                prefix = self._prefix(api_base)
                entries = {k: v for k, v in entries.items() if not k.startswith(prefix)}
            self._write(entries)

    def companies(self, api_base: str) -> list[int]:
        """Companies with a well-formed saved token for ``api_base``."""
        with self._lock:
            entries = self._read()
        return sorted({t.company_id for _, t in self._valid(entries, api_base) if t.company_id is not None})

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"
