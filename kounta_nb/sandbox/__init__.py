"""The sandbox: a faithful, account-free fake Kounta API server with a synthetic business behind it.

``business`` (and its helpers ``timeline``, ``menu``, ``people``, ``orders``) is the data layer:
pure Python, deterministic from a seed, generated lazily per site-day. The HTTP layer serves it.
"""
