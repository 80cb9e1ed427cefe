"""The SSRF guard: every spelling of a private address is refused, at connect time too.

No test here can reach a non-loopback address even if the guard were broken: names are
answered by a fake resolver, and connections go through a connector that either refuses
outright or dials the loopback test server whatever address it is handed.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpcore
import pytest

from bot.config import Settings
from bot.errors import BlockedAddressError, FetchError, InputError
from bot.ingest.fetch import fetch
from bot.ingest.ssrf import Network
from tests.fakes.web import ARTICLE_HTML, FakeWeb

PUBLIC_IP = "93.184.216.34"  # example.com's documented address; never actually dialled


class FakeDNS:
    """Scripted answers per host; a list of lists answers successive lookups in turn."""

    def __init__(self, answers: Mapping[str, list[str] | list[list[str]]]) -> None:
        self._answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answer = self._answers.get(host, [])
        if answer and isinstance(answer[0], list):
            seen = self.lookups.count(host) - 1
            return list(answer[min(seen, len(answer) - 1)])
        return list(answer)  # type: ignore[arg-type]


class NetworkReached(AssertionError):
    """The guard let a connection through that it should have refused."""


class RefusingConnector:
    """Records what it is asked to dial and never opens a socket."""

    def __init__(self) -> None:
        self.dialled: list[str] = []

    async def __call__(
        self, ip: str, port: int, connect_timeout: float | None
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append(ip)
        raise NetworkReached(f"the guard let a connection to {ip}:{port} through")


class LoopbackConnector:
    """Dials the loopback test server whatever address it's handed, recording that address."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dialled: list[str] = []

    async def __call__(
        self, ip: str, port: int, connect_timeout: float | None
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append(ip)
        return await httpcore.AnyIOBackend().connect_tcp(
            "127.0.0.1", self.port, timeout=connect_timeout
        )


@pytest.fixture
def guarded(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(allow_private_networks=False, fetch_timeout=2.0)


DNS = {
    "intranet.example.com": ["10.1.2.3"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": [PUBLIC_IP, "127.0.0.1"],
    "v6only.example.com": ["::1"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "localhost": ["127.0.0.1"],  # if the guard asked DNS about localhost, it'd get this
}
PRIVATE = "private or local network address"
NEVER = "stay refused even with BRIEFBOT_ALLOW_PRIVATE_NETWORKS=1"
CREDENTIALS = "never sends credentials"

CASES = [
    ("http://127.0.0.1/", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://2130706433/", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://0x7f.1/", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://0x7f000001/", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://0177.0.0.1/", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://127.1/", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://2130706433./", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("https://127.0.0.1:443/admin", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://[::1]/", BlockedAddressError, PRIVATE, "::1"),
    ("http://[::ffff:127.0.0.1]/", BlockedAddressError, PRIVATE, "::ffff:127.0.0.1"),
    ("http://[0:0:0:0:0:ffff:7f00:1]/", BlockedAddressError, PRIVATE, "::ffff:127.0.0.1"),
    ("http://[::127.0.0.1]/", BlockedAddressError, PRIVATE, "::7f00:1"),
    ("http://[2002:7f00:1::]/", BlockedAddressError, PRIVATE, "2002:7f00:1::"),  # 6to4
    ("http://[64:ff9b::a00:1]/", BlockedAddressError, PRIVATE, "64:ff9b::a00:1"),  # NAT64
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", BlockedAddressError, PRIVATE, "2001:0"),
    ("http://localhost/", BlockedAddressError, PRIVATE, "localhost"),
    ("http://LOCALHOST/", BlockedAddressError, PRIVATE, "localhost"),
    ("http://localhost./", BlockedAddressError, PRIVATE, "localhost"),
    ("http://app.localhost:8080/", BlockedAddressError, PRIVATE, "app.localhost"),
    ("http://\u24dbocalhost/", BlockedAddressError, PRIVATE, "localhost"),  # ⓛocalhost (IDN)
    ("http://xn--ocalhost-in2e/", BlockedAddressError, PRIVATE, "localhost"),  # its punycode
    ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://0.0.0.0/", BlockedAddressError, NEVER, "0.0.0.0"),
    ("http://0/", BlockedAddressError, NEVER, "0.0.0.0"),
    ("http://[::]/", BlockedAddressError, NEVER, "::"),
    ("http://169.254.169.254/latest/meta-data/", BlockedAddressError, NEVER, "169.254.169.254"),
    ("http://[fe80::1]/", BlockedAddressError, NEVER, "fe80::1"),
    ("http://224.0.0.1/", BlockedAddressError, NEVER, "224.0.0.1"),
    ("http://255.255.255.255/", BlockedAddressError, NEVER, "255.255.255.255"),
    ("http://10.0.0.5/", BlockedAddressError, PRIVATE, "10.0.0.5"),
    ("http://172.16.8.1/", BlockedAddressError, PRIVATE, "172.16.8.1"),
    ("http://192.168.1.1/", BlockedAddressError, PRIVATE, "192.168.1.1"),
    ("http://100.64.0.1/", BlockedAddressError, PRIVATE, "100.64.0.1"),  # CGNAT
    ("http://198.51.100.7/", BlockedAddressError, PRIVATE, "198.51.100.7"),  # documentation
    ("http://198.18.0.1/", BlockedAddressError, PRIVATE, "198.18.0.1"),  # benchmarking
    ("http://240.0.0.1/", BlockedAddressError, PRIVATE, "240.0.0.1"),  # reserved
    ("http://[fc00::1]/", BlockedAddressError, PRIVATE, "fc00::1"),
    ("http://[2001:db8::1]/", BlockedAddressError, PRIVATE, "2001:db8::1"),
    ("http://intranet.example.com/", BlockedAddressError, PRIVATE, "10.1.2.3"),
    ("http://metadata.example.com/", BlockedAddressError, NEVER, "169.254.169.254"),
    ("http://mixed.example.com/", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://v6only.example.com/", BlockedAddressError, PRIVATE, "::1"),
    ("http://mapped.example.com/", BlockedAddressError, PRIVATE, "::ffff:10.0.0.1"),
    ("http://127.0.0.1.nip.io/", BlockedAddressError, PRIVATE, "127.0.0.1"),
    ("http://evil@127.0.0.1/", InputError, CREDENTIALS, "'@'"),
    ("http://user:pass@news.example.com/", InputError, CREDENTIALS, "'@'"),
    ("http://news.example.com\\@127.0.0.1/", InputError, CREDENTIALS, "'@'"),
    ("file:///etc/passwd", InputError, "only reads http(s) links", "file"),
    ("gopher://127.0.0.1:6379/_INFO", InputError, "only reads http(s) links", "gopher"),
]


@pytest.mark.parametrize(("link", "error", "words", "shown"), CASES, ids=[c[0] for c in CASES])
async def test_refused_spellings_and_tricks(
    guarded: Settings, link: str, error: type[Exception], words: str, shown: str
) -> None:
    connector = RefusingConnector()
    network = Network(resolver=FakeDNS(DNS), connector=connector)
    with pytest.raises(error) as err:
        await fetch(link, guarded, network=network)
    message = str(err.value)
    assert words in message
    assert shown in message
    if error is BlockedAddressError:
        assert "That link points at a private or local network address" in message
        assert "BRIEFBOT_ALLOW_PRIVATE_NETWORKS=1" in message
    assert connector.dialled == []


async def test_loopback_is_refused_without_opening_a_connection(
    web: FakeWeb, guarded: Settings
) -> None:
    before = len(web.requests)
    with pytest.raises(BlockedAddressError, match=r"\(127\.0\.0\.1\)"):
        await fetch(web.url("/article"), guarded)
    assert len(web.requests) == before


async def test_allow_private_networks_lets_a_loopback_fetch_through(
    web: FakeWeb, make_settings: Callable[..., Settings]
) -> None:
    got = await fetch(web.url("/article"), make_settings(allow_private_networks=True))
    assert got.body == ARTICLE_HTML.encode()


async def test_public_name_is_fetched_from_the_validated_ip(
    web: FakeWeb, guarded: Settings
) -> None:
    dns = FakeDNS({"news.example.com": [PUBLIC_IP]})
    connector = LoopbackConnector(web.port)
    got = await fetch(
        f"http://news.example.com:{web.port}/redirect/chain",
        guarded,
        network=Network(resolver=dns, connector=connector),
    )
    assert got.final_url == f"http://news.example.com:{web.port}/article"
    assert set(connector.dialled) == {PUBLIC_IP}
    hosts = {headers["Host"] for path, headers in web.requests[-4:]}
    assert hosts == {f"news.example.com:{web.port}"}  # the name, not the IP, reaches the site


async def test_dns_rebinding_cannot_swap_the_address(web: FakeWeb, guarded: Settings) -> None:
    # First answer public, every later answer loopback: the classic rebinding attack.
    dns = FakeDNS({"rebind.example.com": [[PUBLIC_IP], ["127.0.0.1"]]})
    connector = LoopbackConnector(web.port)
    network = Network(resolver=dns, connector=connector)
    link = f"http://rebind.example.com:{web.port}/article"

    got = await fetch(link, guarded, network=network)
    assert got.status == 200
    assert dns.lookups == ["rebind.example.com"]  # resolved once for the connection
    assert connector.dialled == [PUBLIC_IP]  # and the address checked is the one dialled

    with pytest.raises(BlockedAddressError, match=r"rebind\.example\.com = 127\.0\.0\.1"):
        await fetch(link, guarded, network=network)
    assert connector.dialled == [PUBLIC_IP]  # the loopback answer was never dialled


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://10.0.0.5/admin", "10.0.0.5"),
        ("http://intranet.example.com/", "intranet.example.com = 10.1.2.3"),
        ("http://localhost:{port}/article", "localhost"),
        ("http://[::ffff:192.168.0.1]/", "::ffff:192.168.0.1"),
    ],
)
async def test_redirect_hop_to_a_private_address_is_refused(
    web: FakeWeb, guarded: Settings, target: str, words: str
) -> None:
    path = f"/hop-to/{abs(hash(target))}"
    web.add(path, status=302, headers={"Location": target.format(port=web.port)})
    dns = FakeDNS({"news.example.com": [PUBLIC_IP], **DNS})
    connector = LoopbackConnector(web.port)
    with pytest.raises(BlockedAddressError) as err:
        await fetch(
            f"http://news.example.com:{web.port}{path}",
            guarded,
            network=Network(resolver=dns, connector=connector),
        )
    assert words in str(err.value)
    assert connector.dialled == [PUBLIC_IP]  # only the first, public hop was dialled


async def test_real_connector_dials_the_resolved_ip_not_the_name(
    web: FakeWeb, make_settings: Callable[..., Settings]
) -> None:
    # "pinned.test" exists in no DNS: the fetch only works if the connect uses our answer.
    dns = FakeDNS({"pinned.test": ["127.0.0.1"]})
    got = await fetch(
        f"http://pinned.test:{web.port}/article",
        make_settings(allow_private_networks=True),
        network=Network(resolver=dns),
    )
    assert got.body == ARTICLE_HTML.encode()
    assert web.requests[-1][1]["Host"] == f"pinned.test:{web.port}"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    # An EC key: an RSA key's prime search takes 0.05-0.8 s at random, and made this
    # fixture's test vary 3.6x between runs.
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=news.example.com",
         "-addext", "subjectAltName=DNS:news.example.com"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def tls_web(tls_files: tuple[Path, Path]) -> Iterator[FakeWeb]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(*tls_files)
    with FakeWeb(tls=server_context) as server:
        yield server


@pytest.mark.parametrize(("host", "ok"), [("news.example.com", True), ("other.example.com", False)])
async def test_tls_verifies_the_hostname_while_dialling_the_ip(
    tls_web: FakeWeb, tls_files: tuple[Path, Path], guarded: Settings, host: str, ok: bool
) -> None:
    client_context = ssl.create_default_context(cafile=str(tls_files[0]))
    dns = FakeDNS({host: [PUBLIC_IP]})
    connector = LoopbackConnector(tls_web.port)
    network = Network(resolver=dns, connector=connector, ssl_context=client_context)
    link = f"https://{host}:{tls_web.port}/article"
    if ok:
        got = await fetch(link, guarded, network=network)
        assert got.body == ARTICLE_HTML.encode()
    else:
        # The certificate is for news.example.com: checked against the name, it fails.
        with pytest.raises(FetchError, match="invalid security"):
            await fetch(link, guarded, network=network)
    assert connector.dialled == [PUBLIC_IP]
