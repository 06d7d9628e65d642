"""The options of the ``%kounta`` magics: ``%config Kounta.<name> = value``.

:class:`KountaConfig` declares them (traitlets, ``config=True``). IPython's ``%config`` and
traitlets' config files address a configurable by its *class name*, and users write
``%config Kounta.rate_limit = 60`` or ``c.Kounta.rate_limit = 60`` in ``ipython_config.py``, so the
instance registered in ``shell.configurables`` is of :class:`Kounta`, a subclass that only carries
that name. It lives in this module, is never exported from the package, and is unrelated to the
client :class:`kounta_nb.Kounta`. The magics themselves are :class:`kounta_nb.magics.KountaMagics`.
"""

from __future__ import annotations

import os
from typing import Any

from traitlets import Bool, Enum, Float, Int, Unicode, Union
from traitlets.config.configurable import Configurable

from . import settings

__all__ = [
    "CONFIG_NAME", "KountaConfig", "make_config", "Kounta",
]

#: The name users write in ``%config Kounta.x`` and ``c.Kounta.x``.
CONFIG_NAME = "Kounta"


class KountaConfig(Configurable):
    """Every ``%config Kounta.*`` option of the ``%kounta`` magics."""

    api_base = Unicode(
        "", config=True, help="API base URL ('' = $KOUNTA_API_BASE or the production API)."
    )
    authorize_url = Unicode(
        "", config=True, help="OAuth authorise page ('' = $KOUNTA_AUTHORIZE_URL or Kounta's)."
    )
    client_id = Unicode("", config=True, help="The add-on's client id for the login widget.")
    redirect_uri = Unicode(
        "",
        config=True,
        help="OAuth redirect URI ('' = $KOUNTA_REDIRECT_URI, else a loopback listener). End it in "
        "/kounta_nb/callback on the Jupyter server to use the server extension's route.",
    )
    cache = Union(
        [Bool(), Unicode()],
        default_value=True,
        config=True,
        help="HTTP cache: True (the default file), a path, or False. Applies to the next login.",
    )
    rate_limit = Int(
        0, config=True, help="Requests per minute; 0 = the API's (60 Basic, 180 OAuth). Next login."
    )
    timezone = Unicode(
        "", config=True, help="IANA zone for --since/--until and timestamps ('' = the company's)."
    )
    max_retries = Int(
        settings.MAX_RETRIES,
        config=True,
        help="Retries of a read on 5xx, dropped or truncated answers. Applies to the next login.",
    )
    progress = Bool(True, config=True, help="Show progress bars for pulls.")
    display_limit = Int(
        20, config=True, help="Rows %%kounta shows per displayed result (the values keep them all)."
    )
    site = Unicode(
        "",
        config=True,
        help="Default site (id, code or name) chosen at login; $KOUNTA_SITE and the last pick "
        "come after it.",
    )
    autoconnect = Bool(
        True,
        config=True,
        help="On %load_ext, connect from $KOUNTA_ACCESS_TOKEN or $KOUNTA_CLIENT_ID/_SECRET when set.",
    )
    offline = Bool(
        False,
        config=True,
        help="Offline mode: when the API cannot be reached, serve the cached answer and say how "
        "old it is (df.attrs['meta']['stale']). Off by default: fresh or an error. Next login.",
    )
    max_wait = Float(
        60.0,
        config=True,
        help="Seconds a foreground fetch may take at the rate limit before %kounta stops and "
        "offers --background (or --yes to fetch it here anyway).",
    )
    dataframe = Enum(
        ["pandas", "polars"],
        default_value="pandas",
        config=True,
        help="What DataFrames %kounta returns: 'pandas' or 'polars' (pip install 'kounta_nb[polars]').",
    )
    dataset = Unicode(
        "",
        config=True,
        help="The Parquet dataset %kounta sql reads and --background --export writes ('' = a "
        "'dataset' folder in the cache directory, beside the HTTP cache and the pull stores).",
    )

    def client_options(self) -> dict[str, Any]:
        """Keyword options for ``Kounta`` constructors, from these settings and the environment."""
        options: dict[str, Any] = {"cache": None if self.cache is True else self.cache}
        api_base = self.api_base or os.environ.get(settings.ENV_API_BASE, "")
        if api_base:
            options["api_base"] = api_base
        authorize = self.authorize_url or os.environ.get(settings.ENV_AUTHORIZE_URL, "")
        if authorize:
            options["authorize_url"] = authorize
        if self.rate_limit:
            options["rate_limit"] = self.rate_limit
        if self.max_retries != settings.MAX_RETRIES:
            options["max_retries"] = self.max_retries
        if self.offline:
            options["offline"] = True
        return options

    def login_options(self) -> dict[str, Any]:
        """Keyword options for the login widget."""
        options: dict[str, Any] = {}
        if self.client_id:
            options["client_id"] = self.client_id
        if self.redirect_uri:
            options["redirect_uri"] = self.redirect_uri
        return options


class Kounta(KountaConfig):
    """:class:`KountaConfig` under the name ``%config`` and config files address: ``Kounta``."""


def make_config(shell: Any) -> KountaConfig:
    """The configurable for ``shell``, reading ``c.Kounta.*`` from its config."""
    return Kounta(parent=shell, config=getattr(shell, "config", None))
