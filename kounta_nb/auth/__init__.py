"""Authentication: tokens and the token file (:mod:`.tokens`), credentials and expiry detection
(:mod:`.credentials`), the OAuth authorisation-code flow (:mod:`.flow`).

Nothing in this package ever puts a token or secret into a ``repr``, a log line or an exception
message: :class:`Token`, the credentials and :class:`OAuthFlow` all have hand-written reprs, and
errors only name the *kind* of failure. (Driving the sandbox's consent page like a browser lives
in :mod:`kounta_nb.consent`, beside the client's sandbox login.)
"""

from __future__ import annotations

from .credentials import BasicCredentials, Credentials, OAuthCredentials, says_token_expired
from .flow import OAuthFlow, is_loopback
from .tokens import Token, TokenStore

__all__ = [
    "BasicCredentials",
    "Credentials",
    "OAuthCredentials",
    "OAuthFlow",
    "Token",
    "TokenStore",
    "is_loopback",
    "says_token_expired",
]
