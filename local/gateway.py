"""A local stand-in for API Gateway HTTP API (payload format 2.0) in front of the real handlers.

It serves exactly the routes the template declares: each request becomes the event API Gateway
would send, the function runs in its worker (local.runtime), and the handler's answer becomes
the HTTP response. Unknown routes get API Gateway's own 404. It also serves the committed
OpenAPI document at /openapi.json and Swagger UI at /docs (assets from the npm package
swagger-ui-dist, so no internet is needed). Only method, path, status and duration are logged:
never bodies, query strings or headers.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from local import storefront
from local.runtime import ACCOUNT_ID, InvocationError
from local.service import Service
from local.template import Route

REPO_ROOT = Path(__file__).resolve().parent.parent
OPENAPI_FILE = REPO_ROOT / "openapi.json"
SWAGGER_UI_DIR = Path(__file__).resolve().parent / "node_modules" / "swagger-ui-dist"
MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API's payload limit
LISTEN_BACKLOG = 256  # the kernel caps it at net.core.somaxconn (4096 on current Linux)
API_ID = "local"
AUTH_MODES = ("NONE", "IAM", "JWT")
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "+json",
    "+xml",
)

Invoker = Callable[[str, dict[str, Any]], Any]
RequestLog = Callable[[str], None]


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


class RouteTable:
    """API Gateway route selection: the most specific path template wins, then the method."""

    def __init__(self, routes: Iterable[Route]) -> None:
        compiled = [(route, _compile_path(route.path)) for route in routes]
        # More literal segments first, greedy {proxy+} last: how API Gateway prioritises.
        self._routes = sorted(compiled, key=lambda item: _specificity(item[0].path), reverse=True)

    @property
    def routes(self) -> list[Route]:
        return [route for route, _ in self._routes]

    def match(self, method: str, path: str) -> RouteMatch | None:
        for route, pattern in self._routes:
            if route.method not in (method, "ANY"):
                continue
            found = pattern.fullmatch(path)
            if found:
                params = {name: unquote(value) for name, value in found.groupdict().items()}
                return RouteMatch(route, params)
        return None


def _compile_path(template: str) -> re.Pattern[str]:
    parts = []
    for segment in template.strip("/").split("/"):
        greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
        param = re.fullmatch(r"\{(\w+)\}", segment)
        if greedy:
            parts.append(f"(?P<{greedy.group(1)}>.+)")
        elif param:
            parts.append(f"(?P<{param.group(1)}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("/" + "/".join(parts))


def _specificity(template: str) -> tuple[int, int, int]:
    segments = template.strip("/").split("/")
    literal = sum(1 for s in segments if not s.startswith("{"))
    greedy = any(s.endswith("+}") for s in segments)
    return (0 if greedy else 1, literal, len(segments))


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str


def build_event(request: IncomingRequest, match: RouteMatch, auth_mode: str = "NONE") -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for one request."""
    headers, cookies = _event_headers(request)
    now = datetime.now(UTC)
    request_id = base64.b64encode(uuid.uuid4().bytes[:12]).decode().rstrip("=") + "="
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": request.method,
                "path": unquote(request.raw_path),
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": match.route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query = _query_parameters(request.raw_query)
    if query:
        event["queryStringParameters"] = query
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    authorizer = _authorizer(auth_mode, headers)
    if authorizer:
        event["requestContext"]["authorizer"] = authorizer
    if request.body:
        _attach_body(event, request.body, headers.get("content-type", ""))
    return event


def _event_headers(request: IncomingRequest) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        # Repeated headers arrive comma-joined in payload 2.0.
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    return headers, cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        # Repeated parameters arrive comma-joined in payload 2.0.
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def _attach_body(event: dict[str, Any], body: bytes, content_type: str) -> None:
    textual = not content_type or any(marker in content_type.lower() for marker in TEXT_TYPES)
    if textual:
        try:
            event["body"] = body.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
    event["body"] = base64.b64encode(body).decode("ascii")
    event["isBase64Encoded"] = True


def _authorizer(auth_mode: str, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """A stand-in identity for IAM/JWT modes; signatures and tokens are NOT verified locally."""
    if auth_mode == "IAM":
        return {
            "iam": {
                "accessKey": "LOCALACCESSKEY",
                "accountId": ACCOUNT_ID,
                "callerId": "LOCAL:developer",
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::{ACCOUNT_ID}:user/local-developer",
                "userId": "LOCAL:developer",
            }
        }
    if auth_mode == "JWT":
        claims = _unverified_jwt_claims(headers.get("authorization", ""))
        return {"jwt": {"claims": claims or {}, "scopes": None}}
    return None


def _unverified_jwt_claims(authorization: str) -> dict[str, Any] | None:
    token = authorization.removeprefix("Bearer ").strip()
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def auth_refusal(auth_mode: str, headers: Mapping[str, str]) -> tuple[int, str] | None:
    """API Gateway's refusal when the credential is absent (its shape is all we check locally)."""
    authorization = headers.get("authorization", "")
    if auth_mode == "IAM" and not authorization.startswith("AWS4-HMAC-SHA256 "):
        return 403, "Forbidden"
    if auth_mode == "JWT" and _unverified_jwt_claims(authorization) is None:
        return 401, "Unauthorized"
    return None


@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def answer_from_result(result: Any) -> HttpAnswer:
    """Turn a handler's result into HTTP the way payload 2.0 does (including its inference)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # Payload 2.0: anything without statusCode is a 200 JSON body.
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpAnswer(200, [("content-type", "application/json")], text.encode())
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    raw_body = str(result.get("body") or "")
    body = base64.b64decode(raw_body) if result.get("isBase64Encoded") else raw_body.encode()
    return HttpAnswer(int(result["statusCode"]), headers, body)


def message_answer(status: int, message: str, extra: list[tuple[str, str]] | None = None) -> HttpAnswer:
    body = json.dumps({"message": message}).encode()
    return HttpAnswer(status, [("content-type", "application/json"), *(extra or [])], body)


def failure_answer(error: InvocationError) -> HttpAnswer:
    # What API Gateway answers when the Lambda integration fails or times out.
    if error.payload.get("errorType") == "Sandbox.Timedout":
        return message_answer(503, "Service Unavailable")
    return message_answer(500, "Internal Server Error")


class Gateway:
    """Owns the routes, the invoker and the static docs; the HTTP server delegates to it."""

    def __init__(
        self,
        routes: Iterable[Route],
        invoke: Invoker,
        *,
        auth_mode: str = "NONE",
        request_log: RequestLog | None = None,
        openapi_file: Path = OPENAPI_FILE,
        swagger_ui_dir: Path = SWAGGER_UI_DIR,
    ) -> None:
        if auth_mode not in AUTH_MODES:
            raise ValueError(f"auth mode must be one of {AUTH_MODES}, not {auth_mode!r}")
        self.table = RouteTable(routes)
        self.invoke = invoke
        self.auth_mode = auth_mode
        self.request_log = request_log
        self.openapi_file = openapi_file
        self.swagger_ui_dir = swagger_ui_dir

    def handle(self, request: IncomingRequest) -> HttpAnswer:
        path = unquote(request.raw_path)
        static = self._static(request.method, path)
        if static is not None:
            return static
        match = self.table.match(request.method, path)
        if match is None:
            return message_answer(404, "Not Found")
        headers = {name.lower(): value for name, value in request.headers}
        refusal = auth_refusal(self.auth_mode, headers)
        if refusal:
            return message_answer(*refusal)
        event = build_event(request, match, self.auth_mode)
        try:
            result = self.invoke(match.route.function, event)
        except InvocationError as error:
            return failure_answer(error)
        answer = answer_from_result(result)
        answer.headers.append(("apigw-requestid", event["requestContext"]["requestId"]))
        return answer

    def _static(self, method: str, path: str) -> HttpAnswer | None:
        if method != "GET":
            return None
        page = storefront.serve(path)
        if page is not None:
            return HttpAnswer(page.status, page.headers, page.body)
        if path == "/openapi.json":
            if not self.openapi_file.exists():
                return message_answer(404, "openapi.json has not been generated (make openapi)")
            return HttpAnswer(200, [("content-type", "application/json")], self.openapi_file.read_bytes())
        if path in ("/docs", "/docs/"):
            return HttpAnswer(200, [("content-type", "text/html; charset=utf-8")], _docs_page().encode())
        if path.startswith("/docs/assets/"):
            return self._asset(path.removeprefix("/docs/assets/"))
        return None

    def _asset(self, name: str) -> HttpAnswer:
        target = (self.swagger_ui_dir / name).resolve()
        inside = target.is_relative_to(self.swagger_ui_dir.resolve())
        if not inside or not target.is_file():
            return message_answer(404, "Not Found")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return HttpAnswer(200, [("content-type", content_type)], target.read_bytes())


def _docs_page() -> str:
    return """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CryptoSDK exchange API (local)</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    server: GatewayHTTPServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Answers go out as soon as they are written, never held back for an ACK (Nagle).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def __getattr__(self, name: str) -> Any:
        # http.server answers a method it has no do_* for with its own 501 page; API Gateway routes
        # every method, so an undeclared one (TRACE, QUERY, ...) gets the route table's JSON 404.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            answer = message_answer(413, "Request Entity Too Large")
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = IncomingRequest(
                method=self.command,
                raw_path=parts.path or "/",
                raw_query=parts.query,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            try:
                answer = self.server.gateway.handle(request)
            except Exception:  # never let one request take the server down
                answer = message_answer(500, "Internal Server Error")
        self._send(answer)
        elapsed_ms = (time.perf_counter() - started) * 1000
        log = self.server.gateway.request_log
        if log is not None:
            line = f"{self.command} {urlsplit(self.path).path} {answer.status} {elapsed_ms:.0f}ms"
            log(escape_controls(line))

    def _send(self, answer: HttpAnswer) -> None:
        head = [f"{self.protocol_version} {answer.status} {_reason(answer.status)}".rstrip()]
        head.append(f"date: {self.date_time_string()}")
        names = {name.lower() for name, _ in answer.headers}
        for name, value in answer.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                head.append(f"{name}: {value}")
        if "content-type" not in names and answer.body:
            head.append("content-type: application/json")
        head.append(f"content-length: {len(answer.body)}")
        if self.close_connection:
            head.append("connection: close")
        body = answer.body if self.command != "HEAD" else b""
        # One write for head and body: a second small write waits for the ACK of the first
        # (Nagle), which the client delays by ~40 ms on a keep-alive connection.
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the gateway writes its own request log without query strings."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class GatewayHTTPServer(ThreadingHTTPServer):
    """One thread per connection; a burst of clients waits in the listen backlog instead of being
    refused (the standard library's default backlog of 5 resets a burst of 50)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, port: int, gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(("127.0.0.1", port), _Handler)


class GatewayServer(Service):
    """The gateway on 127.0.0.1:<port> in a background thread (port 0 picks a free one)."""

    def __init__(self, gateway: Gateway, port: int = 0) -> None:
        self.gateway = gateway
        self._requested_port = port
        self._server: GatewayHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._server = GatewayHTTPServer(self._requested_port, self.gateway)
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """`text` with every control character written as \\xNN, so a caller's NUL, newline or
    terminal escape in a path cannot forge or garble a line of the request log."""
    return _CONTROL_CHARS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
