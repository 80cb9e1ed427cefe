"""A loopback web server serving article pages and every way a fetch can go wrong.

Usage::

    with FakeWeb() as web:
        web.url("/article")          # http://127.0.0.1:<port>/article
        web.requests                 # [(path, headers), ...] as the server saw them

Routes cover articles (HTML, PDF, text, wrong charsets, gzip), redirects (chains, loops,
too many hops, hops to private addresses), errors (404, 500, 403), and hostile bodies
(over the size cap, a slow drip, a gzip bomb, an image, a script-only page). Tests add
their own with :meth:`FakeWeb.add` or :meth:`FakeWeb.add_handler`.
"""

from __future__ import annotations

import functools
import gzip
import ssl
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

# --- Pages ----------------------------------------------------------------------------

ARTICLE_TITLE = "Halden port and dockworkers agree pay deal after three-week strike"
ARTICLE_SITE = "The Coastal Herald"
ARTICLE_AUTHOR = "Marta Eriksen"
ARTICLE_DATE = "2024-05-14"
ARTICLE_CANONICAL = "https://www.coastalherald.example/business/2024/05/14/halden-port-deal"
ARTICLE_PARAGRAPHS = [
    "The Port of Halden and the dockworkers' union reached a tentative pay agreement on "
    "Tuesday night, ending a three-week strike that had left more than forty container "
    "ships waiting offshore and cost regional exporters an estimated 30 million euros.",
    "Under the deal, which still has to be ratified by union members next week, wages will "
    "rise by 6.5 per cent this year and by a further 4 per cent in 2025. The port also agreed "
    "to cap night shifts at three a week for each worker, the sticking point that had "
    "collapsed the last round of talks in April.",
    "\u201cThis is not everything we asked for, but it is a fair result,\u201d said Tomas Berg, "
    "who leads the Halden branch of the Norwegian Transport Workers' Union. \u201cOur members "
    "will vote on it, and I will recommend that they accept it.\u201d",
    "Maria Lindqvist, the port's chief executive, said the agreement would let Halden "
    "\u201cget back to being a reliable gateway for the whole region\u201d and promised to "
    "clear the backlog of ships within ten days. She declined to say how the higher wage "
    "bill would be paid for, but port officials have previously warned that handling fees "
    "could rise.",
    "Not everyone was satisfied. Shipping lines represented by the Nordic Freight Council "
    "said the port had given in too easily and warned that any increase in fees would be "
    "passed on to customers. Transport Minister Erik Dahl, who had been criticised for "
    "staying out of the dispute, welcomed the deal and said the government would review "
    "how strikes at critical infrastructure are handled.",
    "The mayor of Halden, Ingrid Solberg, said the city would ask the ministry for "
    "emergency support for small hauliers who lost work during the strike. A decision on "
    "that request is expected before the end of June, and the union's ratification vote "
    "is scheduled for May 21.",
]
ARTICLE_HTML = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{ARTICLE_TITLE} | {ARTICLE_SITE}</title>
<meta name="author" content="{ARTICLE_AUTHOR}">
<meta property="og:title" content="{ARTICLE_TITLE}">
<meta property="og:site_name" content="{ARTICLE_SITE}">
<meta property="article:published_time" content="{ARTICLE_DATE}T21:40:00+02:00">
<link rel="canonical" href="{ARTICLE_CANONICAL}">
<script>window.dataLayer = window.dataLayer || [];
dataLayer.push({{"section": "business"}});</script>
</head>
<body>
<header>
  <nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
  <li><a href="/business">Business</a></li><li><a href="/sport">Sport</a></li>
  <li><a href="/subscribe">Subscribe now for $1</a></li></ul></nav>
  <div class="ad-banner">Advertisement</div>
</header>
<main>
<article>
  <h1>{ARTICLE_TITLE}</h1>
  <p class="byline">By <span class="author">{ARTICLE_AUTHOR}</span> &middot;
  <time datetime="{ARTICLE_DATE}">May 14, 2024</time></p>
  {"".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS[:3])}
  <div class="inline-ad">Advertisement</div>
  {"".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS[3:])}
  <div class="share">Share this article <a href="#">Facebook</a> <a href="#">X</a></div>
</article>
<aside class="related">
  <h2>Related Stories</h2>
  <ul>
    <li><a href="/a1">Ferry operators warn of summer delays</a></li>
    <li><a href="/a2">Union leaders meet ministry over port safety</a></li>
  </ul>
</aside>
</main>
<footer>
  <p>Subscribe to our newsletter for the latest business news.</p>
  <p>&copy; 2024 {ARTICLE_SITE}. All rights reserved.</p>
  <p>www.coastalherald.example</p>
</footer>
</body>
</html>
"""
ARTICLE_TEXT = "\n\n".join([ARTICLE_TITLE, *ARTICLE_PARAGRAPHS])

# Words only in the page furniture: none may reach the extracted text.
ARTICLE_JUNK = ["Related Stories", "Ferry operators", "Subscribe", "All rights reserved",
                "dataLayer", "Sport"]  # fmt: skip

# Non-ASCII text to prove charsets survive: "café", curly quotes, a euro sign, a dash.
CHARSET_SENTENCE = "The caf\u00e9 owner said \u201cprices are up \u20ac2\u201d \u2013 again."
SCRIPT_ONLY_HTML = """<!DOCTYPE html><html><head><title>Loading…</title>
<script src="/static/app.js"></script></head>
<body><div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript>
<script>document.getElementById("root").innerHTML = "<p>" + "news".repeat(3) + "</p>";</script>
</body></html>"""
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def article_html(words: int, *, title: str = "A long report on harbour policy") -> str:
    """A news page with about ``words`` words of article text (for benchmarks)."""
    sentences = [
        "Officials from the port authority met union representatives on Monday to discuss "
        "the schedule for the next phase of the harbour expansion.",
        "The minister said the government would publish its review of the project before the "
        "summer recess, although critics doubted that the timetable was realistic.",
        "Shipping lines warned that higher handling fees would be passed on to customers in "
        "the form of surcharges on every container moved through the terminal.",
        "Local residents asked for a clearer account of how the dredging work would affect "
        "the fishing grounds north of the breakwater.",
    ]
    paragraphs: list[str] = []
    count = 0
    i = 0
    while count < words:
        para = " ".join(sentences[(i + k) % len(sentences)] for k in range(3))
        paragraphs.append(f"Paragraph {i + 1}. {para}")
        count += len(paragraphs[-1].split())
        i += 1
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return ARTICLE_HTML.replace(ARTICLE_TITLE, title).split("<h1>")[0] + (
        f"<h1>{title}</h1>\n{body}</article></main></body></html>"
    )


# --- PDFs -------------------------------------------------------------------------------


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _wrap(text: str, width: int = 80) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def make_pdf(paragraphs: list[str], *, title: str | None = None) -> bytes:
    """A small valid one-page-per-40-lines PDF with real (extractable) text; ASCII only."""
    lines: list[str] = []
    for para in paragraphs:
        lines.extend([*_wrap(para), ""])
    pages = [lines[i : i + 40] for i in range(0, len(lines), 40)] or [[]]
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for page_lines in pages:
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 800 Td"]
        ops += [f"({_pdf_escape(line)}) Tj T*" for line in page_lines]
        stream = "\n".join([*ops, "ET"]).encode("latin-1") if page_lines else b""
        page_no = len(objects) + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_no + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info = ""
    if title:
        objects.append(f"<< /Title ({_pdf_escape(title)}) >>".encode())
        info = f" /Info {len(objects)} 0 R"
    return pdf_file(objects, info=info)


def pdf_file(objects: list[bytes], *, info: str = "") -> bytes:
    """A PDF of numbered ``objects`` (object 1 the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n".encode()
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


ARTICLE_PARAGRAPHS_ASCII = [
    p.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    for p in ARTICLE_PARAGRAPHS
]


@functools.cache
def article_pdf() -> bytes:
    return make_pdf(ARTICLE_PARAGRAPHS_ASCII, title=ARTICLE_TITLE)


@functools.cache
def gzip_bomb(decoded_size: int = 30_000_000) -> bytes:
    """Gzip of decoded_size zero bytes: ~1000x smaller on the wire than in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * 1_000_000
    parts = [compressor.compress(block) for _ in range(decoded_size // len(block))]
    return b"".join([*parts, compressor.flush()])


# --- Server -----------------------------------------------------------------------------


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["_RequestHandler", dict[str, list[str]]], None]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        with self.server.lock:
            self.server.requests.append((self.path, dict(self.headers.items())))
        route = self.server.routes.get(parts.path)
        if route is None:
            route = Response(404, b"<html><body><h1>Not found</h1></body></html>",
                             {"Content-Type": "text/html"})  # fmt: skip
        try:
            if isinstance(route, Response):
                self.send(route)
            else:
                route(self, parse_qs(parts.query))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up, as it should on a refusal

    def send(self, response: Response) -> None:
        self.send_response(response.status)
        headers = {"Content-Length": str(len(response.body)), **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Response | Handler]
    requests: list[tuple[str, dict[str, str]]]
    lock: threading.Lock
    stopping: threading.Event

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hang up mid-body on purpose (size cap, deadline): not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _html(body: str | bytes, *, status: int = 200, charset: str | None = "utf-8") -> Response:
    data = body.encode() if isinstance(body, str) else body
    ctype = f"text/html; charset={charset}" if charset else "text/html"
    return Response(status, data, {"Content-Type": ctype})


def _redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", {"Location": location})


def _huge(handler: _RequestHandler, query: dict[str, list[str]]) -> None:
    """size bytes of HTML; ?chunked=1 leaves out Content-Length so only streaming can stop it."""
    size = int(query.get("size", ["11000000"])[0])
    chunked = query.get("chunked", ["0"])[0] == "1"
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
    else:
        handler.send_header("Content-Length", str(size))
    handler.end_headers()
    block = (b"<p>" + b"filler text " * 80 + b"</p>\n") * 64  # ~62 KB per write
    sent = 0
    while sent < size and not handler.server.stopping.is_set():
        piece = block[: size - sent]
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        sent += len(piece)
    if chunked:
        handler.wfile.write(b"0\r\n\r\n")


def _slow(handler: _RequestHandler, query: dict[str, list[str]]) -> None:
    """Headers at once, then one byte per interval: each read is quick, the whole is not."""
    interval = float(query.get("interval", ["0.05"])[0])
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    handler.wfile.write(b"<html><body><p>")
    handler.wfile.flush()
    while not handler.server.stopping.wait(interval):
        handler.wfile.write(b"x")
        handler.wfile.flush()


def charset_page(meta: str | None) -> str:
    """The article with CHARSET_SENTENCE added, declaring ``meta`` as its charset."""
    page = ARTICLE_HTML.replace("</article>", f"<p>{CHARSET_SENTENCE}</p></article>").replace(
        '<meta charset="utf-8">\n', ""
    )
    if meta:
        declared = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">'
        page = page.replace("<head>", "<head>" + declared)
    return page


def _bomb(handler: _RequestHandler, query: dict[str, list[str]]) -> None:
    """A gzip bomb, built on first request (building one takes a moment)."""
    handler.send(Response(200, gzip_bomb(), {"Content-Type": "text/html",
                                             "Content-Encoding": "gzip"}))  # fmt: skip


def _default_routes(base: Callable[[str], str]) -> dict[str, Response | Handler]:
    utf8_with_latin1_header = charset_page(None).encode("utf-8")
    cp1252_page = charset_page("windows-1252").encode("cp1252")
    hops = {f"/hops/{n}": _redirect(f"/hops/{n - 1}", 301) for n in range(1, 10)}
    return {
        "/article": _html(ARTICLE_HTML),
        "/article.gz": Response(
            200,
            gzip.compress(ARTICLE_HTML.encode()),
            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
        ),
        "/article.txt": Response(200, ARTICLE_TEXT.encode(), {"Content-Type": "text/plain"}),
        "/article.pdf": Response(200, article_pdf(), {"Content-Type": "application/pdf"}),
        "/download": Response(200, article_pdf(), {"Content-Type": "application/octet-stream"}),
        "/untyped": Response(200, ARTICLE_HTML.encode(), {}),
        "/redirect/301": _redirect("/article", 301),
        "/redirect/chain": _redirect("/redirect/chain2", 302),
        "/redirect/chain2": _redirect("/redirect/301", 307),
        "/redirect/absolute": _redirect(base("/article"), 302),
        "/loop/a": _redirect("/loop/b"),
        "/loop/b": _redirect("/loop/a"),
        **hops,
        "/hops/0": _html(ARTICLE_HTML),
        "/to-metadata": _redirect("http://169.254.169.254/latest/meta-data/"),
        "/to-private": _redirect("http://10.0.0.5/admin"),
        "/to-file": _redirect("file:///etc/passwd"),
        "/huge": _huge,
        "/slow": _slow,
        "/bomb": _bomb,
        "/latin1-header": Response(
            200, utf8_with_latin1_header, {"Content-Type": "text/html; charset=iso-8859-1"}
        ),
        "/meta-cp1252": Response(200, cp1252_page, {"Content-Type": "text/html"}),
        "/image.png": Response(200, PNG_1PX, {"Content-Type": "image/png"}),
        "/data.json": Response(200, b'{"items": []}', {"Content-Type": "application/json"}),
        "/script-only": _html(SCRIPT_ONLY_HTML),
        "/missing": _html("<h1>Not found</h1>", status=404),
        "/forbidden": _html("<h1>Subscribers only</h1>", status=403),
        "/error": _html("<h1>Internal error</h1>", status=500),
    }


class FakeWeb:
    """A threaded HTTP server on 127.0.0.1 with a free port; a context manager."""

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server((host, 0), _RequestHandler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.requests = []
        self._server.lock = threading.Lock()
        self._server.stopping = threading.Event()
        self.port: int = self._server.server_address[1]
        self.base_url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self._server.routes = _default_routes(self.url)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        with self._server.lock:
            return list(self._server.requests)

    def add(self, path: str, body: bytes | str = b"", *, status: int = 200,
            headers: dict[str, str] | None = None) -> str:  # fmt: skip
        """Serve a fixed response at path; returns its full URL."""
        data = body.encode() if isinstance(body, str) else body
        self._server.routes[path] = Response(status, data, dict(headers or {}))
        return self.url(path)

    def add_handler(self, path: str, handler: Handler) -> str:
        """Serve path with handler(request_handler, query); returns its full URL."""
        self._server.routes[path] = handler
        return self.url(path)

    def start(self) -> FakeWeb:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeWeb:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve() -> Iterator[FakeWeb]:
    """Generator for a pytest fixture: ``web = pytest.fixture(scope="module")(serve)``."""
    with FakeWeb() as web:
        yield web
