"""Real servers for the test of several nodes (tests/test_multinode.py): redis-server and nginx from Debian's
packages, each run from a temporary folder on a free loopback port (no root needed), `kb serve` nodes, a peer
that drops every request it is sent, and a small HTTP client that keeps cookies as a browser does."""
from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
_SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
NGINX = shutil.which("nginx", path=_SBIN)
REDIS = shutil.which("redis-server", path=_SBIN)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, what: str, log: Path, timeout: float) -> None:
    """Poll `ready` until it holds; fail with the process's log when it exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            state = f"exited with {process.returncode}" if process.poll() is not None else f"not up in {timeout} s"
            raise AssertionError(f"{what} {state}:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- redis-server ---------------------------------------------------------------------------------------------------

def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    """redis-server on a free loopback port, keeping nothing on disk: (process, its URL)."""
    folder.mkdir(parents=True, exist_ok=True)
    port, log = free_port(), folder / "redis.log"
    process = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder), "--logfile", str(log)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    log.touch()
    wait_until(lambda: _pong(port), process, "redis-server", log, 20)
    return process, f"redis://127.0.0.1:{port}/0"


# --- nginx ----------------------------------------------------------------------------------------------------------

def deployed_upstream(nodes: list[str]) -> str:
    """The `upstream kb_nodes` block of deploy/nginx/kb.conf as shipped, its example addresses replaced by `nodes`."""
    block = re.search(r"^upstream kb_nodes \{.*?^\}", (DEPLOY / "nginx" / "kb.conf").read_text(), re.S | re.M).group(0)
    examples = re.findall(r"^\s*server (\S+:\d+)", block, re.M)
    assert len(examples) == len(nodes), f"deploy/nginx/kb.conf names {len(examples)} nodes"
    for example, node in zip(examples, nodes):
        block = block.replace(f"server {example} ", f"server {node} ")
    return block


def nginx_config(folder: Path, servers: dict[int, str], upstreams: list[str]) -> str:
    """A whole nginx.conf run from `folder`: `upstreams` (blocks), and per port a server whose one location passes
    to the named upstream with deploy/nginx/kb-proxy.conf, answering which nodes it tried in X-Upstream."""
    locations = "\n".join(f"""
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{upstream};
            include {DEPLOY / 'nginx' / 'kb-proxy.conf'};
            add_header X-Upstream $upstream_addr always;
        }}
    }}""" for port, upstream in servers.items())
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                           "scgi"))
    # As root, nginx's workers would switch to `nobody`, who may not enter the temporary folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes 1;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} info;
events {{ worker_connections 512; }}
http {{
    log_format kb '$request_method $uri $status upstream=$upstream_addr upstream_status=$upstream_status';
    access_log {folder / 'access.log'} kb;
{temp}
{chr(10).join(upstreams)}
{locations}
}}
"""


def start_nginx(folder: Path, servers: dict[int, str], upstreams: list[str]) -> subprocess.Popen:
    """nginx in the foreground with `-p folder -c nginx.conf`, its pid, logs and temporary files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "nginx.conf"
    config.write_text(nginx_config(folder, servers, upstreams))
    log = folder / "error.log"
    command = [NGINX, "-e", str(log), "-p", str(folder), "-c", str(config)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    port = next(iter(servers))
    wait_until(lambda: _accepts(port), process, "nginx", log, 20)
    return process


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


# --- kb serve -------------------------------------------------------------------------------------------------------

@dataclass
class Node:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.address}"


def start_node(name: str, folder: Path, index: Path, settings: dict[str, str]) -> Node:
    """`kb serve` in its own process and folder, configured by KB_* variables (`settings`) alone."""
    folder.mkdir(parents=True, exist_ok=True)
    port, log = free_port(), folder / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(settings, HF_HUB_OFFLINE="1", KB_HOST="127.0.0.1", KB_PORT=str(port),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    with open(log, "wb") as out:  # a file: a full pipe would stall the server
        process = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--index", str(index)], cwd=folder, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    return Node(name, port, process, log)


def wait_serving(node: Node, timeout: float = 120) -> None:
    def answers() -> bool:
        try:
            return Visitor(node.base).get("/").status == 200
        except OSError:
            return False

    wait_until(answers, node.process, f"kb serve ({node.name})", node.log, timeout)


# --- a peer that takes requests and dies before answering -----------------------------------------------------------

@dataclass
class DroppingPeer:
    """Listens on a loopback port, reads each request whole, then closes the connection without a word, as a node
    killed while working on the request would. `requests` holds each request line it read."""

    port: int = field(default_factory=free_port)
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", self.port))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = connection.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                    while length and len(body) < int(length.group(1)):
                        chunk = connection.recv(65536)
                        if not chunk:
                            break
                        body += chunk
                except OSError:
                    pass
                if head:
                    self.requests.append(head.split(b"\r\n", 1)[0].decode("latin-1"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


# --- a browser's part: cookies and forms ----------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Visitor:
    """Requests to one base URL with the cookies the server set (any path), redirects not followed."""

    def __init__(self, base: str, cookies: dict[str, str] | None = None) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.cookies: dict[str, str] = dict(cookies or {})

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None,
                files: dict[str, tuple[str, bytes]] | None = None, body: str | bytes | None = None) -> Reply:
        """`form` sent as a browser sends it: URL-encoded, or with `files` ({field: (file name, bytes)}) as
        multipart/form-data; or else `body` as it is (with its Content-Type among `headers`)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if files:
                boundary = secrets.token_hex(16)
                body = _multipart(boundary, form or {}, files)
                sent["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            elif form is not None:
                body = urlencode(form).encode()
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Reply(response.status, response.headers, text)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> Reply:
        return self.request("POST", path, form)


def _multipart(boundary: str, form: dict, files: dict[str, tuple[str, bytes]]) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in form.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
              f'Content-Type: application/octet-stream\r\n\r\n'.encode() + content + b"\r\n"
              for name, (filename, content) in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def hidden(page: str, name: str) -> str:
    """The value of the page's input `name` (a form's one-time key), or for `csrf_token` the page's token."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    if found is None and name == "csrf_token":
        found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert found, f"no {name} on the page"
    return found.group(1)


def sign_in(visitor: Visitor, email: str, password: str) -> Reply:
    token = hidden(visitor.get("/sign-in").text, "csrf_token")
    return visitor.post("/sign-in", {"email": email, "password": password, "csrf_token": token})
