"""``python -m kounta_nb.sandbox``: run the fake Kounta in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime

from .app import SandboxOptions
from .server import start_sandbox
from .timeline import parse_moment


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a probability between 0 and 1")
    return value


def _instant(text: str) -> datetime:
    try:
        return parse_moment(text, UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time such as 2026-05-29T12:00:00Z") from None


def build_parser() -> argparse.ArgumentParser:
    """The command-line options (each maps to a SandboxOptions field)."""
    d = SandboxOptions()
    p = argparse.ArgumentParser(
        prog="python -m kounta_nb.sandbox",
        description="Run a local fake Kounta API (OAuth pages, API, faults) on 127.0.0.1.")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free port)")
    p.add_argument("--seed", type=int, default=d.seed, help="data seed (default %(default)s)")
    p.add_argument("--months", type=int, default=d.months, help="months of history (default %(default)s)")
    p.add_argument("--extra-sites", type=int, default=d.extra_sites, metavar="N",
                   help="N more venues for the developer company (0-250; for big-data runs)")
    p.add_argument("--now", type=_instant, default=None, help="the sandbox's 'now' (ISO; default: real now)")
    p.add_argument("--live", action="store_true", help="let the clock run: new orders keep arriving")
    p.add_argument("--live-speed", type=float, default=d.live_speed,
                   help="how fast a live clock runs (60 = a minute of trading per second)")
    p.add_argument("--latency-ms", type=float, default=d.latency_ms, help="added latency per API call")
    p.add_argument("--jitter-ms", type=float, default=d.jitter_ms, help="random extra latency, 0..X ms")
    p.add_argument("--rate-limit", action="store_true", help="enforce per-token rate limits")
    p.add_argument("--rate-basic", type=int, default=d.rate_basic, help="requests/minute, Basic auth")
    p.add_argument("--rate-oauth", type=int, default=d.rate_oauth, help="requests/minute, OAuth token")
    p.add_argument("--time-scale", type=float, default=d.time_scale,
                   help="speed up the rate-limit window (10 → a 6 s window)")
    p.add_argument("--token-ttl", type=float, default=d.token_ttl, help="access token lifetime, seconds")
    p.add_argument("--expiry-empty-s", type=float, default=d.expiry_empty_s, metavar="S",
                   help="in the last S seconds of a token's life, GETs answer an empty 200 (as seen around expiry)")
    for name in ("5xx", "429", "drop", "truncate", "slow"):
        p.add_argument(f"--fault-{name}", type=_probability, default=0.0, metavar="P",
                       help=f"probability of an injected {name} fault per API request")
    p.add_argument("--slow-ms", type=float, default=d.slow_ms, help="delay of a 'slow' fault")
    p.add_argument("--fault-seed", type=int, default=d.fault_seed, help="seed of the fault sequence")
    p.add_argument("--me-redirect", action="store_true", help="/companies/me answers 302 → /companies/{id}")
    p.add_argument("--refresh-omits-token", action="store_true",
                   help="refresh responses leave out refresh_token")
    p.add_argument("--legacy-pages", nargs="?", const="always", default=d.legacy_pages,
                   choices=("asked", "always", "never"), metavar="MODE",
                   help="legacy X-Page/X-Pages paging: 'asked' (X-Pages only when X-Page is sent; default), "
                        "'always' (X-Pages on every list answer; the flag alone means this), 'never'")
    p.add_argument("--strict-writes", action="store_true",
                   help="refuse what real clients send beyond the documented write fields (the old behaviour)")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start the server, print how to use it, serve until interrupted."""
    args = build_parser().parse_args(argv)
    options = {k: v for k, v in vars(args).items() if k not in ("port", "verbose")}
    for name in ("5xx", "429", "drop", "truncate", "slow"):
        options[f"fault_{name}"] = options.pop(f"fault_{name}")
    try:
        handle = start_sandbox(args.port, verbose=args.verbose, **options)
    except (OSError, ValueError) as exc:
        print(f"Cannot start the sandbox: {exc}", file=sys.stderr)
        return 2
    info = handle.info()
    out = [
        f"Kounta sandbox running at {handle.url}",
        f"  API base        {handle.api_base}",
        f"  authorise URL   {handle.authorize_url}",
        f"  token URL       {handle.token_url}",
        f"  client id       {handle.client_id}",
        f"  client secret   {handle.client_secret}",
        f"  redirect URI    {handle.redirect_uri}   (or any http://127.0.0.1:<port>/… URI)",
        f"  login           {handle.username} / {handle.password}",
        "  companies       " + "; ".join(f"{c['id']} {c['name']}" for c in info["companies"]),
        "Press Ctrl-C to stop.",
    ]
    stop = threading.Event()
    # before the banner: whoever reads it may send SIGTERM right away
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("\n".join(out), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
