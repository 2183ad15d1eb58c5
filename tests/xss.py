"""Hostile input for the XSS and fuzz tests: the payloads of tests/xss_payloads.txt made observable, a loopback
listener that counts what a payload made the browser load, and the checks a rendered page must pass."""
from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

PAYLOAD_FILE = Path(__file__).with_name("xss_payloads.txt")
JS = "window.__xss=1"
# 91 * 7919: what a template engine that evaluated "{{91*7919}}" would show
EVALUATED = str(91 * 7919)


def raw_payloads() -> list[str]:
    """The payloads as written in the file, placeholders and all."""
    lines = PAYLOAD_FILE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not (line.startswith("# ") or line == "#")]


def payloads(url: str = "http://127.0.0.1:9/hit") -> list[str]:
    """Every payload with its placeholders filled: script sets window.__xss, loads go to `url`."""
    page = f"<script>new Image().src='{url}/data'</script>"
    values = {"{JS}": JS, "{URL}": url, "{JS_CODES}": ",".join(str(ord(c)) for c in JS),
              "{B64_HTML}": base64.b64encode(page.encode()).decode()}
    filled = []
    for line in raw_payloads():
        for name, value in values.items():
            line = line.replace(name, value)
        filled.append(line)
    return filled


def batches(items: list[str], size: int) -> list[list[str]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def packed(items: list[str], limit: int, separator: str = " ") -> list[str]:
    """`items` joined into as few texts of at most `limit` characters as keep each item whole (an item longer than
    `limit` is cut to it)."""
    texts: list[str] = []
    for item in items:
        item = item[:limit]
        if texts and len(texts[-1]) + len(separator) + len(item) <= limit:
            texts[-1] += separator + item
        else:
            texts.append(item)
    return texts


class Listener:
    """An HTTP server on a free loopback port that records every path asked of it (and answers 204)."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hit"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# What a page must not hold once rendered: markup a payload brought to life, found in the DOM itself, so that a
# payload waiting for a click, a hover or a focus counts as much as one that ran.
INSPECT = """(origin) => {
  const problems = [];
  const name = (el) => el.tagName.toLowerCase();
  const live = (value) => {
    // as a browser reads a URL: C0 controls and spaces trimmed, tabs and line breaks dropped anywhere
    const v = (value || '').replace(/^[\\u0000-\\u0020]+|[\\u0000-\\u0020]+$/g, '').replace(/[\\t\\n\\r]/g, '')
      .toLowerCase();
    return v.startsWith('javascript:') || v.startsWith('vbscript:') || v.startsWith('data:text/html') ||
      v.startsWith('data:image/svg');
  };
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const an = attr.name.toLowerCase();
      if (an.startsWith('on')) problems.push(`${name(el)} has ${an}="${attr.value}"`);
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'srcdoc', 'background', 'poster',
           'to', 'values', 'from', 'by'].includes(an) && live(attr.value))
        problems.push(`${name(el)} ${an}="${attr.value}"`);
      if (an === 'style' && /expression\\s*\\(|javascript:|behavior|url\\s*\\(/i.test(attr.value))
        problems.push(`${name(el)} style="${attr.value}"`);
    }
    const tag = name(el);
    if (['iframe', 'frame', 'object', 'embed', 'applet', 'base', 'isindex'].includes(tag))
      problems.push(`a ${tag} element`);
    if (tag === 'meta' && el.hasAttribute('http-equiv')) problems.push('meta http-equiv');
    if (tag === 'script' && !(el.src || '').startsWith(origin + '/static/'))
      problems.push(`script ${el.src || el.textContent.slice(0, 60)}`);
    if (tag === 'link' && !(el.href || '').startsWith(origin + '/')) problems.push(`link ${el.href}`);
    if (tag === 'style' && el.closest('body')) problems.push(`style element: ${el.textContent.slice(0, 60)}`);
  }
  return problems;
}"""


def watch(page) -> list[str]:
    """The dialogs `page` opens from now on (each dismissed): a payload's alert would land here."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def assert_inert(page, dialogs: list[str], listener: Listener, where: str) -> None:
    """No payload ran, opened a dialog, loaded anything or left live markup in `page` (at `where`)."""
    try:
        page.wait_for_load_state("load", timeout=10_000)
    except PlaywrightTimeout:
        pass  # a payload that keeps the page loading (a frame, a refresh) is caught below
    found = page.evaluate(f"""() => ({{ran: window.__xss !== undefined, problems: ({INSPECT})(location.origin),
        text: document.body.innerText, html: document.documentElement.outerHTML}})""")
    assert not found["ran"], f"{where}: a payload's script ran"
    assert dialogs == [], f"{where}: a dialog opened: {dialogs}"
    assert listener.hits == [], f"{where}: a payload made the browser load {listener.hits}"
    assert found["problems"] == [], f"{where}: live markup from a payload: {found['problems'][:10]}"
    assert EVALUATED not in found["text"], f"{where}: a template expression was evaluated"
    assert "SECRET_KEY" not in found["html"] and "&lt;Config" not in found["html"], \
        f"{where}: the app's configuration was shown"
