"""The sandbox: a faithful, account-free fake Kounta API server with a synthetic business behind it.

``business`` (and its helpers ``timeline``, ``menu``, ``people``, ``orders``) is the data layer:
pure Python, deterministic from a seed, generated lazily per site-day. The HTTP layer serves it.
"""

# The package exports nothing itself: its modules are the API (``server.start_sandbox``,
# ``app.make_app``, ``options.SandboxOptions``; docs/sandbox.md).
__all__: list[str] = []
