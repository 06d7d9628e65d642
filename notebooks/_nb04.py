"""Cells of 04-your-own-account.ipynb (see _build.py)."""

CELLS = [
    ("md", r"""
# Connecting your own Kounta account

Everything in the other notebooks ran on the sandbox. This one explains what changes with a real
account — registering an add-on, the redirect address, Basic versus OAuth, where the tokens go —
and rehearses each step on the sandbox, which speaks the same protocol. Cells that need a real
account are shown as text, not code, so the notebook still runs without one.
"""),
    ("md", r"""
## 1. Register an add-on

Kounta only hands out data to a registered **add-on** (an API client). Ask Lightspeed/Kounta for
developer access and register one; you get:

| you receive / set | what it is for |
|---|---|
| **client id** | identifies your add-on; not secret |
| **client secret** | proves it is your add-on; keep it out of notebooks and git |
| **redirect URI(s)** | where the browser is sent back after someone clicks *Grant Access* — must match exactly one registered on the add-on |

Give them to `kounta_nb` through environment variables (never paste them into a cell that gets
saved and shared):

```bash
export KOUNTA_CLIENT_ID=…        # your add-on's client id
export KOUNTA_CLIENT_SECRET=…    # your add-on's client secret
export KOUNTA_REDIRECT_URI=…     # only when not using the loopback default (see below)
```
"""),
    ("md", r"""
## 2. Which redirect URI?

After **Grant Access** the browser is redirected to `redirect_uri?code=…&state=…`; the code must
reach your kernel. Where the kernel runs decides how:

| where Jupyter runs | redirect URI to register | how the code gets back |
|---|---|---|
| your own machine (JupyterLab, VS Code) | `http://127.0.0.1/kounta_nb/callback` — loopback, **any port** (RFC 8252 §7.3) | `%kounta login` listens on a random local port; the browser lands there directly |
| JupyterHub (a stable address) | `https://<hub>/user/<you>/kounta_nb/callback` | the `kounta_nb.server_ext` server extension forwards it to your kernel (`jupyter server extension enable kounta_nb.server_ext`) |
| Binder (a new address every session) | a fixed page you control, or the loopback address | **paste-back**: copy the address the browser ends on into the login widget |

If your add-on only accepts exact addresses, register the loopback URI with a fixed port and set
`%config Kounta.callback_port = 8765`.

With a real account the login is one line — it opens the consent page and waits for the redirect:

```python
%load_ext kounta_nb
%kounta login
```

The same with the Python API, for the paste-back case:

```python
from kounta_nb import Kounta
flow = Kounta.oauth()                 # client id, secret, redirect URI from the environment
url, state = flow.authorization_url() # open url, log in, pick the venue, Grant Access
token = flow.fetch_token(input("Paste the address you were sent to: "))
k = Kounta.from_flow(flow, token)
```

The rest of this notebook rehearses exactly that on the sandbox.
"""),
    ("md", r"""
The rehearsal keeps its token file in a **temporary folder**, deleted at the end: sandbox tokens
never mix with the logins in your real config directory (`~/.config/kounta_nb`).
"""),
    ("code", r"""
import shutil
import stat
import tempfile
from pathlib import Path

import kounta_nb
from kounta_nb import Kounta, TokenExpiredError
from kounta_nb.auth import TokenStore
from kounta_nb.consent import consent_login

rehearsal_dir = Path(tempfile.mkdtemp(prefix="kounta-nb-rehearsal-"))
store = TokenStore(rehearsal_dir / "tokens.json")  # not your real token file

sandbox = kounta_nb.start_sandbox()
print("Sandbox API:", sandbox.api_base)
print("Demo add-on client id:", sandbox.client_id)
"""),
    ("md", r"""
## 3. Basic versus OAuth

| | **Basic** (`client_id:client_secret`) | **OAuth** (authorisation code) |
|---|---|---|
| reaches | only the developer's own company | any company whose user clicks *Grant Access* |
| rate limit | about 60 requests a minute | about 180 requests a minute |
| use it for | trying the API on your test account | everything else |
| expires | never (until the secret changes) | access token after about an hour; refreshed automatically |

Basic needs nothing but the add-on's credentials:
"""),
    ("code", r"""
basic = Kounta.basic(sandbox.client_id, sandbox.client_secret, api_base=sandbox.api_base)
basic_company = basic.company["name"]
print("Basic auth reaches:", basic_company)
basic.close()
"""),
    ("md", r"""
## 4. The OAuth login, step by step (paste-back)

The sandbox registers `{sandbox}/oauth/done` as a redirect URI: a page that shows the address
the browser landed on, for you to paste back — the Binder way.
"""),
    ("code", r"""
flow = Kounta.oauth(sandbox.client_id, sandbox.client_secret, sandbox.url + "/oauth/done",
                    authorize_url=sandbox.authorize_url, api_base=sandbox.api_base)
url, state = flow.authorization_url()
print("1. Open this page, log in, pick the venue and click Grant Access:")
print("  ", url.split("?")[0], "?response_type=code&client_id=…&redirect_uri=…&state=…")
"""),
    ("md", r"""
In a notebook you would now click the link. Here `consent_login` plays the person in the browser:
it opens the page, fills in the login form, chooses the single-venue company in the drop-down and
presses **Grant Access** — the same form a person fills in.
"""),
    ("code", r"""
companies = {c["name"]: c["id"] for c in sandbox.info()["companies"]}
print("The demo login sees:", ", ".join(companies))
single_venue = [name for name in companies if name != basic_company][0]
landed_on = consent_login(url, email=sandbox.username, password=sandbox.password,
                          redirect_uri=flow.redirect_uri, company=single_venue)
print("2. The browser was sent to", landed_on.split("?")[0], "?code=…&state=…")
"""),
    ("code", r"""
token = flow.fetch_token(landed_on)   # checks state, exchanges the code for a token
k = Kounta.from_flow(flow, token, api_base=sandbox.api_base, token_store=store)
print("3. Connected to", k.company["name"], "—", token)
"""),
    ("md", r"""
Note what was printed: the token object says which company and when it expires, but never shows
the token itself. The same holds for every error message, log line and widget of `kounta_nb`.

## 5. Where tokens are kept

- **The token file** `tokens.json` in the config directory (`$KOUNTA_CONFIG_DIR`, else
  `~/.config/kounta_nb`), readable by you only (mode `0600`), one entry per company. `%kounta
  login` saves there and reuses it next time, refreshing as needed.
- **Environment variables** `KOUNTA_ACCESS_TOKEN` / `KOUNTA_REFRESH_TOKEN` (with
  `KOUNTA_CLIENT_ID` / `KOUNTA_CLIENT_SECRET` for refreshing) for scheduled jobs:
  `Kounta.from_env()`.
- **Never** in the notebook: widget state and outputs are saved into the `.ipynb` file.

Here the client saved its token in the rehearsal's own file (`token_store=store` above; without
it, the file in the config directory):
"""),
    ("code", r"""
print("Token file:", store.path.name, "in the rehearsal's temporary folder")
print("Permissions:", oct(stat.S_IMODE(store.path.stat().st_mode)))
print("Saved entry:", store.load(sandbox.api_base, k.company_id))
"""),
    ("md", r"""
Next time, reconnect from the file without logging in again (it refreshes the token when needed):

```python
k = Kounta.from_store()   # client id and secret from KOUNTA_CLIENT_ID / KOUNTA_CLIENT_SECRET
```
"""),
    ("code", r"""
again = Kounta.from_store(k.company_id, client_id=sandbox.client_id, client_secret=sandbox.client_secret,
                          api_base=sandbox.api_base, token_store=store)
print("Reconnected from the token file to", again.company["name"])
again.close()
"""),
    ("md", r"""
## 6. When a token expires

Access tokens last about an hour. `kounta_nb` refreshes them with the refresh token before they
run out and, if the API still says *expired*, refreshes and retries the request once — you do not
notice. The sandbox can expire every token on demand:
"""),
    ("code", r"""
sandbox.expire_tokens()
print("After expiry, the next call refreshes by itself:", len(k.sites()), "site(s)")
"""),
    ("md", r"""
A refresh only fails when the refresh token itself is no longer valid — the user removed the
add-on, changed their password, or Kounta revoked it. That is the *"expired authentication
token"* of the integration guides: nothing but a new login helps. `kounta_nb` raises
`TokenExpiredError`, and the magics show a reconnect notice instead of a traceback.
"""),
    ("code", r"""
sandbox.revoke()
sandbox.expire_tokens()
try:
    k.sites()
except TokenExpiredError as exc:
    print(f"{type(exc).__name__}: {exc}")
"""),
    ("md", r"""
The fix is to log in again: `%kounta login` (here: `%kounta sandbox`); with the Python API,
repeat the OAuth flow. Pages of a pull that were already fetched are kept: the pull resumes
where it stopped.
"""),
    ("code", r"""
k.close()
sandbox.stop()
shutil.rmtree(rehearsal_dir)  # the rehearsal's token file goes with it
"""),
    ("md", r"""
### The same in the magics

With `%kounta`, an expired login shows a reconnect notice (with a button to log in again) and a
one-line error instead of a traceback. The last cell below **fails on purpose** to show it.
"""),
    ("code", r"""
%load_ext kounta_nb
%kounta sandbox
"""),
    ("code", r"""
# The magics' own sandbox: revoke its refresh tokens and expire its access tokens.
magics = get_ipython().magics_manager.registry["KountaMagics"]
handle = magics.session.sandbox_handle
revoked = handle.revoke()
handle.expire_tokens()
print(f"Revoked {revoked} refresh token(s) and expired every access token of that sandbox.")
"""),
    ("code", r"""
%kounta sites
""", {"tags": ["raises-exception"]}),
]
