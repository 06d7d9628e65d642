"""ipywidgets for kounta_nb: the login, the venue picker and the token-expired notice.

No synced trait of these widgets ever holds a client secret or a token: widget state is saved
into the notebook file.
"""

from __future__ import annotations

from .expired import ExpiredNotice
from .login import LoginWidget
from .venue import VenuePicker

__all__ = ["ExpiredNotice", "LoginWidget", "VenuePicker"]
