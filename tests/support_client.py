"""A tiny scriptable Kounta stand-in (stdlib http.server on 127.0.0.1) for fast client tests.

It is deliberately independent of kounta_nb.sandbox: the contract suite runs the same behaviours
against the real sandbox. Faults are queued per request (``fake.faults.append("429")``) and every
request is logged (``fake.log``) so tests can assert what went over the wire.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

BASIC = ("cid", "csecret")
BASE_ID = 2**60  # order ids above 2**53, like the real API


def _company(cid: int, name: str, tz_name: str, offset: str) -> dict[str, Any]:
    return {"id": cid, "name": name, "currency": "AUD", "timezone": {"offset": offset, "name": tz_name}}


class FakeKounta:
    """Two companies (101 Sydney, 202 Melbourne), Basic reaches 101, OAuth tokens per company."""

    def __init__(self, orders_per_company: int = 60, token_ttl: float = 3600.0) -> None:
        self.lock = threading.Lock()
        self.companies = {
            101: _company(101, "Harbour Group", "Australia/Sydney", "+11:00"),
            202: _company(202, "Lane Cafe", "Australia/Melbourne", "+11:00"),
        }
        self.sites = {
            101: [{"id": 11, "company_id": 101, "name": "Harbour Cafe", "code": "HC"},
                  {"id": 12, "company_id": 101, "name": "Harbour Bar", "code": "HB"}],
            202: [{"id": 21, "company_id": 202, "name": "Lane Cafe", "code": "LC"}],
        }
        self.orders: dict[int, list[dict[str, Any]]] = {}
        start = datetime(2026, 5, 1, 8, 0, tzinfo=timezone(timedelta(hours=10)))
        for cid in self.companies:
            rows = []
            for i in range(orders_per_company):
                oid = BASE_ID + cid * 100_000 + i
                created = start + timedelta(minutes=37 * i)
                rows.append({
                    "id": oid, "id_str": str(oid), "sale_number": f"S{cid}-{i}",
                    "status": "COMPLETE" if i % 3 else "PENDING", "notes": "",
                    "site_id": self.sites[cid][i % len(self.sites[cid])]["id"], "total": round(5 + i * 1.25, 2),
                    "created_at": created.isoformat(), "updated_at": created.isoformat(),
                    "lines": [{"number": 1, "quantity": 1}], "payments": [],
                })
            self.orders[cid] = rows
        self.token_ttl = token_ttl
        self.tokens: dict[str, tuple[int, float]] = {}
        self.refresh_tokens: dict[str, int] = {}
        self.refresh_omits_refresh_token = False
        self.faults: deque[str] = deque()
        self.fault_paths: tuple[str, ...] = ()
        self.log: list[dict[str, Any]] = []
        self.me_redirect = False
        self.next_page = "absolute"  # or "relative" / "loop"
        self.expiry_shape = "oauth"  # or "message" (400 {"message": ...})
        self.server: ThreadingHTTPServer | None = None
        self._counter = 0

    # -- tokens -------------------------------------------------------------------------------
    def issue(self, company: int, ttl: float | None = None) -> tuple[str, str]:
        with self.lock:
            self._counter += 1
            access = f"acc-{company}-{self._counter}-SECRETACCESS"
            refresh = f"ref-{company}-{self._counter}-SECRETREFRESH"
            self.tokens[access] = (company, time.time() + (self.token_ttl if ttl is None else ttl))
            self.refresh_tokens[refresh] = company
        return access, refresh

    def expire_all(self) -> None:
        with self.lock:
            self.tokens = {k: (c, 0.0) for k, (c, _) in self.tokens.items()}

    def revoke_all(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    # -- server -------------------------------------------------------------------------------
    def start(self) -> FakeKounta:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.handle(self, "GET")

            def do_POST(self) -> None:
                fake.handle(self, "POST")

            def do_PUT(self) -> None:
                fake.handle(self, "PUT")

            def do_DELETE(self) -> None:
                fake.handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_base(self) -> str:
        return self.url + "/v1/"

    def api_requests(self) -> list[dict[str, Any]]:
        return [e for e in self.log if e["path"] != "/v1/token"]

    # -- dispatch -----------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        entry = {"method": method, "path": parts.path, "query": parts.query, "t": time.monotonic(),
                 "if_none_match": h.headers.get("If-None-Match"),
                 "authorization": h.headers.get("Authorization")}
        with self.lock:
            self.log.append(entry)
        if parts.path in ("/v1/token", "/v1/token.json"):
            return self.token(h, raw)
        if parts.path.startswith("/elsewhere"):
            return self.send(h, 200, {"authorization": h.headers.get("Authorization")})
        fault = None
        with self.lock:
            if self.faults and (not self.fault_paths or any(p in parts.path for p in self.fault_paths)):
                fault = self.faults.popleft()
        if fault == "drop":
            h.close_connection = True
            h.connection.shutdown(2)
            return None
        if fault == "429":
            return self.send_text(h, 429, b"Limit exceeded", {"X-Ratelimit-Reset": str(int(time.time()) + 1)})
        if fault == "429-retry-after":
            return self.send_text(h, 429, b"Limit exceeded", {"Retry-After": "0"})
        if fault == "limit200":
            return self.send_text(h, 200, b"Limit exceeded", {})
        if fault == "500":
            return self.send(h, 500, {"error": "server_error", "error_description": "Boom"})
        if fault == "html":
            return self.send_text(h, 502, b"<html><body><h1>Bad gateway</h1></body></html>",
                                  {"Content-Type": "text/html"})
        if fault == "slow":  # answers normally, half a second late
            time.sleep(0.5)
        company = self.authorise(h)
        if company is None:
            return None
        status, body, headers = self.route(method, parts.path, parse_qs(parts.query), company, raw, h)
        if fault == "drop-after":  # the request was carried out, but the answer is lost
            h.close_connection = True
            h.connection.shutdown(2)
            return None
        if fault == "truncate" and status == 200:
            data = json.dumps(body).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(2)
            return None
        if fault == "short-json" and status == 200:
            data = json.dumps(body).encode()[:-3]
            return self.send_text(h, 200, data, {"Content-Type": "application/json"})
        if status == 200 and method == "GET" and body is not None:
            etag = '"' + hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest() + '"'
            headers = {**headers, "ETag": etag}
            if h.headers.get("If-None-Match") == etag:
                return self.send_text(h, 304, b"", headers)
        return self.send(h, status, body, headers)

    def authorise(self, h: BaseHTTPRequestHandler) -> int | None:
        value = h.headers.get("Authorization") or ""
        import base64

        if value.startswith("Basic "):
            pair = base64.b64decode(value[6:]).decode()
            if pair == ":".join(BASIC):
                return 101
            self.send(h, 401, {"error": "invalid_client", "error_description": "Unknown client"})
            return None
        if value.startswith("Bearer "):
            with self.lock:
                grant = self.tokens.get(value[7:])
            if grant is None:
                self.send(h, 401, {"error": "invalid_token", "error_description": "The access token provided is invalid"})
                return None
            if grant[1] <= time.time():
                if self.expiry_shape == "message":
                    self.send(h, 400, {"message": "The access token provided has expired"})
                else:
                    self.send(h, 401, {"error": "expired_token",
                                       "error_description": "The access token provided has expired"})
                return None
            return grant[0]
        self.send(h, 401, {"error": "invalid_request", "error_description": "No credentials"})
        return None

    def token(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if form.get("client_id") != BASIC[0] or form.get("client_secret") != BASIC[1]:
            return self.send(h, 401, {"error": "invalid_client", "error_description": "bad client"})
        if form.get("grant_type") == "refresh_token":
            with self.lock:
                company = self.refresh_tokens.get(form.get("refresh_token", ""))
            if company is None:
                return self.send(h, 400, {"error": "invalid_grant", "error_description": "Refresh token revoked"})
            access, refresh = self.issue(company)
            body = {"access_token": access, "refresh_token": refresh, "expires_in": self.token_ttl,
                    "token_type": "Bearer", "scope": None}
            if self.refresh_omits_refresh_token:
                del body["refresh_token"]
                with self.lock:
                    del self.refresh_tokens[refresh]
            return self.send(h, 200, body)
        if form.get("grant_type") == "authorization_code" and form.get("code", "").startswith("code-"):
            access, refresh = self.issue(int(form["code"][5:]))
            return self.send(h, 200, {"access_token": access, "refresh_token": refresh,
                                      "expires_in": self.token_ttl, "token_type": "Bearer"})
        return self.send(h, 400, {"error": "invalid_grant", "error_description": "bad code"})

    def route(self, method: str, path: str, query: dict[str, list[str]], company: int, raw: bytes,
              h: BaseHTTPRequestHandler) -> tuple[int, Any, dict[str, str]]:
        seg = [s for s in path.split("/") if s][1:]  # drop "v1"
        if seg == ["companies", "me"]:
            if self.me_redirect:
                return 302, None, {"Location": f"/v1/companies/{company}"}
            return 200, self.companies[company], {}
        if len(seg) < 2 or seg[0] != "companies" or seg[1] != str(company):
            return 404, {"error": "not_found", "error_description": "No such company"}, {}
        rest = seg[2:]
        if rest == []:
            return 200, self.companies[company], {}
        if rest == ["sites"]:
            return 200, self.sites[company], {}
        if rest[:1] == ["redirect"]:
            return 302, None, {"Location": f"/v1/companies/{company}/sites"}
        if rest[:1] == ["offhost"]:
            return 302, None, {"Location": f"http://localhost:{self.server.server_address[1]}/elsewhere"}  # type: ignore[union-attr]
        if rest == ["orders"] and method == "POST":
            body = json.loads(raw or b"{}")
            with self.lock:
                oid = BASE_ID + company * 100_000 + 90_000 + len(self.orders[company])
                record = {**body, "id": oid, "id_str": str(oid), "status": body.get("status", "PENDING"),
                          "created_at": "2026-06-01T10:00:00+10:00", "updated_at": "2026-06-01T10:00:00+10:00"}
                self.orders[company].append(record)
            return 201, None, {"Location": f"/v1/companies/{company}/orders/{oid}"}
        if len(rest) == 3 and rest[:2] == ["orders", "saleid"]:
            for record in self.orders[company]:
                if record.get("sale_number") == rest[2]:
                    return 200, record, {}
            return 404, {"error": "not_found", "error_description": "No order with that sale number"}, {}
        if len(rest) == 2 and rest[0] == "orders" and rest[1].isdigit():
            oid = int(rest[1])
            for record in self.orders[company]:
                if record["id"] == oid:
                    if method == "PUT":
                        record.update(json.loads(raw or b"{}"))
                    return 200, record, {}
            return 404, {"error": "not_found", "error_description": "Order not found"}, {}
        orders = self._order_list(rest, company)
        if orders is not None:
            return self.page(path, query, orders)
        return 404, {"error": "not_found", "error_description": "Unknown endpoint"}, {}

    def _order_list(self, rest: list[str], company: int) -> list[dict[str, Any]] | None:
        site = None
        status = None
        if rest[:1] == ["sites"] and len(rest) >= 3:
            site, rest = int(rest[1]), rest[2:]
        if rest[:1] != ["orders"]:
            return None
        if len(rest) == 2:
            status = rest[1].upper()
        elif len(rest) > 2:
            return None
        rows = self.orders[company]
        return [r for r in rows if (site is None or r["site_id"] == site)
                and (status is None or r["status"] == status)]

    def page(self, path: str, query: dict[str, list[str]], rows: list[dict[str, Any]]) -> tuple[int, Any, dict[str, str]]:
        company_rows = list(rows)
        if "created_gte" in query:
            lo = datetime.fromisoformat(query["created_gte"][0])
            company_rows = [r for r in company_rows if datetime.fromisoformat(r["created_at"]) >= lo]
        if "created_lt" in query:
            hi = datetime.fromisoformat(query["created_lt"][0])
            company_rows = [r for r in company_rows if datetime.fromisoformat(r["created_at"]) < hi]
        ordered = sorted(company_rows, key=lambda r: r["id"], reverse=True)
        if "start" in query:
            start = int(query["start"][0])
            ordered = [r for r in ordered if r["id"] <= start]
        chunk = ordered[:25]
        headers: dict[str, str] = {}
        if len(ordered) > 25:
            params = {k: v[0] for k, v in query.items() if k != "start"}
            params["start"] = str(ordered[25]["id"])
            if self.next_page == "loop":
                params["start"] = query.get("start", [str(ordered[0]["id"])])[0]
            url = f"{path}?{urlencode(params)}"
            headers["X-Next-Page"] = url if self.next_page == "relative" else self.url + url
        items = [{k: v for k, v in r.items() if k not in ("lines", "payments")} for r in chunk]
        return 200, items, headers

    # -- output -------------------------------------------------------------------------------
    def send(self, h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_text(h, status, data, {"Content-Type": "application/json", **(headers or {})})

    @staticmethod
    def send_text(h: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str]) -> None:
        h.send_response(status)
        headers = {"Content-Type": "text/plain", **headers}
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if data:
            h.wfile.write(data)
