"""Several stateless `kb serve` nodes behind nginx, as deploy/ lays them out: one PostgreSQL database, rate limits
in one redis-server, one secret key file and one index folder that every node follows, and nginx running the
shipped deploy/nginx/kb-proxy.conf and upstream block. Customers file tickets through the proxy while one node is
killed; a session, an attachment and a rate limit span the nodes; a newly published build reaches every node.

Run it alone with `./scripts/test -m multinode`; it skips only where Debian's nginx or redis-server is missing.
"""
from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kb.config import load_settings
from tests.cluster import (DEPLOY, NGINX, REDIS, DroppingPeer, Node, Visitor, deployed_upstream, free_port, hidden,
                           sign_in, start_nginx, start_node, start_redis, stop, wait_serving)
from tests.conftest import SMALL_CENTER, write_tree
from tests.portal import PASSWORD

pytestmark = pytest.mark.multinode
REAL_MODEL = "all-MiniLM-L6-v2"
ENGLISH_CENTER = {path: text for path, text in SMALL_CENTER.items() if not path.startswith("ru/")}
ANN = "ann@acme.example"
LIMITED = "limited@acme.example"
SIGN_IN_LIMIT = 5  # failed sign-ins per client and account and minute, counted in redis for every node
CUSTOMERS = [f"customer{n}@acme.example" for n in range(6)]
TICKETS_EACH = 8
KILL_AFTER = 10  # tickets acknowledged before node a is killed


def test_the_example_config_loads_with_what_several_nodes_share():
    settings = load_settings(DEPLOY / "kb.toml", environ={})
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.rate_limit_storage.startswith("redis://")
    shared = Path("/srv/kb-shared")
    assert {settings.index_dir.parent, settings.attachments_dir.parent, settings.secret_key_file.parent} == {shared}
    assert settings.proxy_hops == 1 and not settings.secret_key  # the key comes from the shared file


@pytest.mark.skipif(NGINX is None or shutil.which("openssl") is None, reason="Debian's nginx or openssl is missing")
def test_the_nginx_site_passes_nginx_own_check(tmp_path: Path):
    """deploy/nginx/kb.conf as shipped, with a throw-away certificate and the snippet where the site names it."""
    key, cert = tmp_path / "site.key", tmp_path / "site.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=kb", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    site = (DEPLOY / "nginx" / "kb.conf").read_text()
    for shipped, here in [("/etc/nginx/snippets/kb-proxy.conf", DEPLOY / "nginx" / "kb-proxy.conf"),
                          ("/etc/ssl/certs/help.example.com.pem", cert),
                          ("/etc/ssl/private/help.example.com.key", key)]:
        assert shipped in site
        site = site.replace(shipped, str(here))
    temp = " ".join(f"{kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                         "scgi"))
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path / 'nginx.pid'};\nevents {{}}\nhttp {{ {temp}\n{site}\n}}\n")
    checked = subprocess.run([NGINX, "-t", "-e", str(tmp_path / "error.log"), "-p", str(tmp_path), "-c",
                              str(tmp_path / "nginx.conf")], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


# --- the cluster ----------------------------------------------------------------------------------------------------

@dataclass
class Cluster:
    proxy: str  # nginx in front of both nodes
    flaky: str  # nginx in front of a peer that drops requests, with node b as its backup
    nodes: list[Node]
    peer: DroppingPeer
    database_url: str
    articles: Path
    index: Path
    nginx_log: Path


def _people(database_url: str) -> None:
    from kb.helpdesk.accounts import add_organisation, add_user
    from kb.helpdesk.db import open_database

    engine, sessions = open_database(database_url, migrate=False)
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        for email in [ANN, LIMITED, *CUSTOMERS]:
            add_user(db, email, PASSWORD, "Acme", "member")
    engine.dispose()


def _built(root: Path, encoder) -> tuple[Path, Path, Path]:
    """The small English help center built with the real model into the shared folder, as CI publishes it, and
    the ONNX export of the query model the nodes use: (articles, index link, exported model)."""
    from indexer.build import build_index
    from kb.config import Settings
    from kb.embedding.onnx_export import cached_model_path, export

    articles = write_tree(root / "articles", ENGLISH_CENTER)
    index = root / "shared" / "index"
    build_index(Settings(articles_dir=articles, index_dir=index, embedding_model=REAL_MODEL), encoder)
    model = export(REAL_MODEL, encoder.model_dir, cached_model_path(REAL_MODEL, encoder.model_dir, root / "models"))
    return articles, index, model


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    missing = [name for name, path in (("nginx", NGINX), ("redis-server", REDIS)) if path is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (scripts/test installs them from Debian)")
    database_url = request.getfixturevalue("postgres_url")
    root = tmp_path_factory.mktemp("multinode")
    articles, index, model = _built(root, request.getfixturevalue("minilm"))
    secret = root / "shared" / "secret_key"  # generated once, as deploy/README.md says
    secret.write_text(secrets.token_urlsafe(48) + "\n")
    secret.chmod(0o600)
    from kb.cli import cli

    upgraded = CliRunner().invoke(cli, ["db", "upgrade", "--database", database_url], obj={})
    assert upgraded.exit_code == 0, upgraded.output
    _people(database_url)
    processes: list[subprocess.Popen] = []
    peer = None
    try:
        redis, redis_url = start_redis(root / "redis")
        processes.append(redis)
        nodes = []
        for name in ("a", "b"):
            (root / name / "models").mkdir(parents=True)
            os.link(model, root / name / "models" / model.name)  # each node's own cache, already warm
            nodes.append(start_node(name, root / name, index, {
                "KB_DATABASE_URL": database_url, "KB_RATE_LIMIT_STORAGE": redis_url,
                "KB_SECRET_KEY_FILE": str(secret), "KB_ATTACHMENTS_DIR": str(root / "shared" / "attachments"),
                "KB_MODEL_CACHE_DIR": str(root / name / "models"), "KB_PROXY_HOPS": "1",
                "KB_RELOAD_INTERVAL": "0.5", "KB_RATE_LIMIT_TICKETS": "1000/hour",
                "KB_RATE_LIMIT_SIGN_IN": f"{SIGN_IN_LIMIT}/minute"}))
            processes.append(nodes[-1].process)
        for node in nodes:
            wait_serving(node)
        peer = DroppingPeer()
        proxy, flaky = free_port(), free_port()
        flaky_upstream = (f"upstream kb_flaky {{ server 127.0.0.1:{peer.port} max_fails=0; "
                          f"server {nodes[1].address} backup; }}")
        processes.append(start_nginx(root / "nginx", {proxy: "kb_nodes", flaky: "kb_flaky"},
                                     [deployed_upstream([n.address for n in nodes]), flaky_upstream]))
        yield Cluster(f"http://127.0.0.1:{proxy}", f"http://127.0.0.1:{flaky}", nodes, peer, database_url, articles,
                      index, root / "nginx" / "access.log")
    finally:
        for process in reversed(processes):
            stop(process)
        if peer is not None:
            peer.close()


def _tickets(database_url: str) -> list[tuple[str, str, str]]:
    """(ref, subject, customer's e-mail) of every ticket in the database."""
    from kb.helpdesk.db import open_database
    from kb.helpdesk.models import Ticket, User

    engine, sessions = open_database(database_url, migrate=False)
    with sessions() as db:
        rows = db.execute(select(Ticket.ref, Ticket.subject, User.email).join(User, Ticket.customer_id == User.id))
        found = [tuple(row) for row in rows]
    engine.dispose()
    return found


def _ticket_form(visitor: Visitor, subject: str) -> dict:
    page = visitor.get("/tickets/new")
    assert page.status == 200, page.status
    return {"subject": subject, "description": "The printer says offline since Monday", "category": "printers",
            "csrf_token": hidden(page.text, "csrf_token"), "idempotency_key": hidden(page.text, "idempotency_key")}


# --- with both nodes up ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_session_from_one_node_is_good_on_the_other(cluster):
    a, b = cluster.nodes
    ann = Visitor(a.base)
    assert sign_in(ann, ANN, PASSWORD).status == 302
    page = Visitor(b.base, ann.cookies).get("/tickets")
    assert page.status == 200 and ANN in page.text
    assert Visitor(b.base).get("/tickets").status == 302  # without the cookie: sent to sign in
    form = _ticket_form(ann, "Shown by node a, filed on node b")  # the CSRF token a's page holds
    filed = Visitor(b.base, ann.cookies).post("/tickets/new", form)
    assert filed.status == 302, filed.text
    ref = filed.headers["Location"].rsplit("/", 1)[1]
    assert (ref, "Shown by node a, filed on node b", ANN) in _tickets(cluster.database_url)


@pytest.mark.slow
def test_a_file_attached_through_one_node_is_downloaded_from_the_other(cluster):
    a, b = cluster.nodes
    ann = Visitor(a.base)
    assert sign_in(ann, ANN, PASSWORD).status == 302
    log = b"printer spooler stopped at 09:14\n" * 40
    form = _ticket_form(ann, "Spooler log attached")
    filed = ann.request("POST", "/tickets/new", form, files={"attachments": ("spooler.log", log)})
    assert filed.status == 302, filed.text
    ref = filed.headers["Location"].rsplit("/", 1)[1]
    on_b = Visitor(b.base, ann.cookies)
    link = re.search(rf'href="(/tickets/{ref}/attachments/\d+)"', on_b.get(f"/tickets/{ref}").text)
    assert link, "the ticket page on node b links no attachment"
    download = on_b.get(link.group(1))
    assert download.status == 200 and download.text.encode() == log


@pytest.mark.slow
def test_rate_limits_are_counted_across_nodes(cluster):
    """Failed sign-ins alternate between the nodes: each saw fewer than the limit, together they reach it."""
    first = Visitor(cluster.nodes[0].base)
    token = hidden(first.get("/sign-in").text, "csrf_token")
    visitors = [first, Visitor(cluster.nodes[1].base, first.cookies)]
    wrong = {"email": LIMITED, "password": "not the password", "csrf_token": token}
    statuses = [visitors[n % 2].post("/sign-in", wrong).status for n in range(SIGN_IN_LIMIT)]
    assert statuses == [401] * SIGN_IN_LIMIT
    assert [visitor.post("/sign-in", wrong).status for visitor in visitors] == [429, 429]
    assert sign_in(Visitor(cluster.proxy), ANN, PASSWORD).status == 302  # another account is not held back


@pytest.mark.slow
def test_the_proxy_passes_on_only_what_no_node_took(cluster):
    """A peer takes each request and closes without answering: nginx asks the backup node again for a page, but
    never for a ticket, which would be filed by a node that died after filing it and then again by the next."""
    b = cluster.nodes[1]
    signed_in = Visitor(b.base)
    assert sign_in(signed_in, ANN, PASSWORD).status == 302
    visitor = Visitor(cluster.flaky, signed_in.cookies)
    page = visitor.get("/tickets/new")
    assert page.status == 200 and page.headers["X-Upstream"] == f"127.0.0.1:{cluster.peer.port}, {b.address}"
    assert cluster.peer.requests[-1].startswith("GET /tickets/new ")
    form = {"subject": "Sent to a node that died", "description": "The printer says offline", "category": "printers",
            "csrf_token": hidden(page.text, "csrf_token"), "idempotency_key": hidden(page.text, "idempotency_key")}
    lost = visitor.post("/tickets/new", form)
    assert lost.status == 502 and lost.headers["X-Upstream"] == f"127.0.0.1:{cluster.peer.port}"
    assert cluster.peer.requests[-1].startswith("POST /tickets/new ")
    assert "Sent to a node that died" not in [subject for _, subject, _ in _tickets(cluster.database_url)]
    # The customer sends the same form again, twice: filed once.
    again = Visitor(b.base, visitor.cookies)
    assert again.post("/tickets/new", form).status == 302 and again.post("/tickets/new", form).status == 302
    assert [s for _, s, _ in _tickets(cluster.database_url)].count("Sent to a node that died") == 1


@pytest.mark.slow
def test_the_proxy_refuses_a_body_larger_than_kb_takes(cluster):
    """51 MiB: five attachments of 10 MiB and the text (kb's defaults); nginx answers before any node is asked."""
    too_large = {"Content-Length": str(60 * 1024 * 1024)}
    refused = Visitor(cluster.proxy).request("POST", "/tickets/new", headers=too_large)
    assert refused.status == 413 and "X-Upstream" not in refused.headers


@pytest.mark.slow
def test_every_node_swaps_to_a_newly_published_build(cluster, minilm):
    from indexer.build import build_index
    from kb.config import Settings

    serving = cluster.index.resolve().name
    write_tree(cluster.articles, {"printers/badge-reader.md": """\
        ---
        title: Badge reader does not beep
        category: printers
        questions: [my badge is not read at the printer]
        ---
        Hold the badge flat on the reader for two seconds.
        """})
    build_index(Settings(articles_dir=cluster.articles, index_dir=cluster.index, embedding_model=REAL_MODEL), minilm)
    published = cluster.index.resolve().name
    assert published != serving
    for node in cluster.nodes:
        deadline = time.monotonic() + 60
        while (build := Visitor(node.base).request("GET", "/_index", headers={"Accept": "application/json"}))\
                .text.find(published) < 0:
            assert time.monotonic() < deadline, f"node {node.name} still serves {build.text}"
            time.sleep(0.2)
        found = Visitor(node.base).get("/api/search?q=badge%20reader%20does%20not%20beep")
        assert found.status == 200 and '"badge-reader"' in found.text


# --- one node killed under load -------------------------------------------------------------------------------------

@dataclass
class Attempt:
    method: str
    started: float
    ended: float
    status: int | None  # None: the connection failed
    upstream: str


@dataclass
class Load:
    attempts: list[Attempt] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # subject -> ref
    given_up: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def call(self, visitor: Visitor, method: str, path: str, form: dict | None = None, answered: int = 200):
        """The request, sent again (as a customer would) until it is answered with `answered`, at most 4 times."""
        for _try in range(4):
            started = time.monotonic()
            try:
                reply = visitor.request(method, path, form)
            except (OSError, http.client.HTTPException):  # the connection broke off: nothing was answered
                reply = None
            with self.lock:
                self.attempts.append(Attempt(method, started, time.monotonic(), reply and reply.status,
                                             reply.headers.get("X-Upstream", "") if reply else ""))
            if reply is not None and reply.status == answered:
                return reply
            time.sleep(0.3)
        return None


def _customer(proxy: str, email: str, load: Load, ready: threading.Barrier) -> None:
    try:
        _file_tickets(proxy, email, load, ready)
    except Exception as exc:  # noqa: BLE001 - reported by the test, which waits on the others
        ready.abort()
        with load.lock:
            load.errors.append(f"{email}: {exc!r}")
            load.lock.notify_all()


def _file_tickets(proxy: str, email: str, load: Load, ready: threading.Barrier) -> None:
    visitor = Visitor(proxy)
    assert sign_in(visitor, email, PASSWORD).status == 302
    ready.wait(timeout=60)
    for n in range(TICKETS_EACH):
        subject = f"Load {email} #{n}"
        page = load.call(visitor, "GET", "/tickets/new")
        if page is None:
            load.given_up.append(subject)
            continue
        form = {"subject": subject, "description": "Paper jam in tray 2", "category": "printers",
                "csrf_token": hidden(page.text, "csrf_token"), "idempotency_key": hidden(page.text, "idempotency_key")}
        filed = load.call(visitor, "POST", "/tickets/new", form, answered=302)  # the same form each time
        if filed is None:
            load.given_up.append(subject)
            continue
        with load.lock:
            load.acknowledged[subject] = filed.headers["Location"].rsplit("/", 1)[1]
            load.lock.notify_all()


@pytest.mark.slow
def test_tickets_filed_while_a_node_is_killed_are_all_kept(cluster):
    a, b = cluster.nodes
    load = Load()
    ready = threading.Barrier(len(CUSTOMERS))
    customers = [threading.Thread(target=_customer, args=(cluster.proxy, email, load, ready)) for email in CUSTOMERS]
    for thread in customers:
        thread.start()
    with load.lock:
        assert load.lock.wait_for(lambda: len(load.acknowledged) >= KILL_AFTER or load.errors, timeout=120)
    assert load.errors == []
    kill = time.monotonic()
    a.process.send_signal(signal.SIGKILL)
    a.process.wait(timeout=30)
    # nginx drops its idle keep-alive connections to the dead node on the next turn of its event loop.
    settled = time.monotonic() + 1.0
    for thread in customers:
        thread.join(timeout=300)
    assert a.process.returncode == -signal.SIGKILL
    # Ten more requests once the proxy has settled, however much of the load a fast machine left after the kill.
    time.sleep(max(0.0, settled - time.monotonic()))
    late = Visitor(cluster.proxy)
    assert sign_in(late, CUSTOMERS[0], PASSWORD).status == 302
    for _ in range(10):
        load.call(late, "GET", "/tickets/new")

    # Every ticket a customer was told about is in the database, once; every form got in (sent again after a 502).
    assert load.given_up == [] and load.errors == []
    expected = {f"Load {email} #{n}" for email in CUSTOMERS for n in range(TICKETS_EACH)}
    assert set(load.acknowledged) == expected
    stored = [(ref, subject) for ref, subject, _ in _tickets(cluster.database_url) if subject in expected]
    assert sorted(stored) == sorted((ref, subject) for subject, ref in load.acknowledged.items())

    # Both nodes answered before the kill; only requests node a held when it died went unanswered; from then on
    # node b answered everything.
    assert {x.upstream.split(", ")[-1] for x in load.attempts if x.ended < kill} >= {a.address, b.address}
    failed = [x for x in load.attempts if x.status != (302 if x.method == "POST" else 200)]
    assert [x for x in failed if not (x.started < settled and x.ended >= kill)] == []
    after = [x for x in load.attempts if x.started >= settled]
    assert len(after) >= 10 and {x.upstream.split(", ")[-1] for x in after} == {b.address}
    assert Visitor(cluster.proxy).get("/").status == 200 and Visitor(b.base).get("/").status == 200
    # nginx's own log: each POST it answered 502 was sent to one node only, never passed on to another.
    lost = [line for line in cluster.nginx_log.read_text().splitlines() if line.startswith("POST /tickets/new 502 ")]
    assert len(lost) >= len([x for x in failed if x.method == "POST" and x.status == 502])
    assert [line for line in lost if "," in line.split(" upstream=")[1].split()[0]] == []
    print(f"\n{len(load.attempts)} requests, {len(after)} after the kill; unanswered, sent again: "
          f"{[(x.method, x.status, x.upstream) for x in failed]}")
