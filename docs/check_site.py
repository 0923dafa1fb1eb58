"""Check the built documentation as a reader's browser sees it; exit 1 on any problem.

    python docs/check_site.py [SITE] [--screenshots DIR]

Two passes over every page of SITE (default ``site/``, what ``opsgym docs`` builds):

1. the files: every internal link, image, stylesheet and script of every page resolves
   to a file of the site, and every ``#fragment`` to an id of its target page;
2. a real browser: headless Chromium (Debian's ``chromium``), driven over the DevTools
   protocol, loads every page from a local HTTP server and reports any console error,
   uncaught exception, failed request or HTTP error, and any image that did not decode.

It saves screenshots of the front page and of one environment's page into DIR
(default ``site-check/``).
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import websocket  # websocket-client, in the docs extra

SCREENSHOTS = {"home.png": "", "environment.png": "environments/LoadBalancing/"}
VIEWPORT = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
LOAD_TIMEOUT = 20.0  # seconds a page may take to fire its load event
SETTLE = 0.5  # seconds to keep listening after the load event, for late errors
BROKEN_IMAGES = (
    "JSON.stringify([...document.images]"
    ".filter(image => !(image.complete && image.naturalWidth > 0))"
    ".map(image => image.currentSrc || image.src))"
)


class PageLinks(HTMLParser):
    """The ids a page defines and the URLs it refers to (links, images, styles, scripts)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.references: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        for attribute in ("href", "src"):
            if values.get(attribute) and tag in ("a", "img", "link", "script", "source"):
                self.references.append(values[attribute])


def page_paths(site: Path) -> list[str]:
    """Every page of the site as its URL path (``environments/LoadBalancing/``)."""
    pages = (page.relative_to(site).as_posix() for page in site.rglob("*.html"))
    return sorted(page.removesuffix("index.html") for page in pages if page != "404.html")


def target_file(site: Path, url_path: str) -> Path:
    path = site / unquote(url_path)
    return path / "index.html" if url_path.endswith("/") or path.is_dir() else path


def check_files(site: Path) -> list[str]:
    """Problems with the site's internal references, one line each."""
    parsed: dict[Path, PageLinks] = {}

    def parse(file: Path) -> PageLinks:
        if file not in parsed:
            parser = PageLinks()
            parser.feed(file.read_text(encoding="utf-8"))
            parsed[file] = parser
        return parsed[file]

    problems = []
    for path in page_paths(site):
        base = f"http://site/{path}"
        for reference in parse(target_file(site, path)).references:
            url = urlsplit(urljoin(base, reference))
            if url.scheme != "http" or url.netloc != "site":
                continue  # another site, mailto:, data:
            file = target_file(site, url.path.lstrip("/"))
            if not file.is_file():
                problems.append(f"{path or '/'}: {reference} -> no file {file.relative_to(site)}")
            elif url.fragment and file.suffix == ".html":
                if unquote(url.fragment) not in parse(file).ids:
                    problems.append(f"{path or '/'}: {reference} -> no id #{url.fragment}")
    return problems


class DevTools:
    """A Chromium tab driven over the DevTools protocol; every event it sends is kept."""

    def __init__(self, websocket_url: str) -> None:
        # no Origin header: Chromium 111+ refuses a DevTools client that sends one unless
        # started with --remote-allow-origins
        self.socket = websocket.create_connection(
            websocket_url, timeout=LOAD_TIMEOUT, suppress_origin=True
        )
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, event: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == event for e in self.events):
                return True
            self.socket.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.socket.recv()))
            except websocket.WebSocketTimeoutException:
                break
        return any(e.get("method") == event for e in self.events)

    def listen(self, seconds: float) -> None:
        self.wait_for("Never.happens", seconds)


def event_problems(events: list[dict]) -> list[str]:
    """Console errors, exceptions and failed or erroneous requests among ``events``."""
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            problems.append(f"uncaught exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            text = " ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"])
            problems.append(f"console.{params['type']}: {text}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            problems.append(f"console error: {entry['text']} {entry.get('url', '')}".strip())
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"request failed: {params.get('errorText')}")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            response = params["response"]
            problems.append(f"HTTP {response['status']}: {response['url']}")
    return problems


def serve(site: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base's name)
        pass


def start_chromium(chromium: str, profile: Path) -> tuple[subprocess.Popen, str]:
    """Start headless Chromium; return it and the DevTools address of its blank tab."""
    process = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{chromium} did not start its DevTools server")
        time.sleep(0.1)
    port = port_file.read_text().split()[0]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
        tabs = [t for t in json.load(response) if t["type"] == "page"]
    return process, tabs[0]["webSocketDebuggerUrl"]


def check_in_browser(site: Path, chromium: str, screenshots: Path) -> tuple[list[str], int]:
    """Problems seen by the browser, one line each, and the number of images it decoded."""
    server = serve(site)
    root = f"http://127.0.0.1:{server.server_address[1]}/"
    problems: list[str] = []
    images = 0
    with tempfile.TemporaryDirectory() as profile:
        process, address = start_chromium(chromium, Path(profile))
        try:
            tab = DevTools(address)
            for domain in ("Page", "Runtime", "Log", "Network"):
                tab.call(f"{domain}.enable")
            tab.call("Emulation.setDeviceMetricsOverride", **VIEWPORT)
            for path in page_paths(site):
                tab.events.clear()
                tab.call("Page.navigate", url=root + path)
                if not tab.wait_for("Page.loadEventFired", LOAD_TIMEOUT):
                    problems.append(f"{path or '/'}: no load event in {LOAD_TIMEOUT:.0f} s")
                    continue
                tab.listen(SETTLE)
                problems += [f"{path or '/'}: {p}" for p in event_problems(tab.events)]
                result = tab.call("Runtime.evaluate", expression=BROKEN_IMAGES)
                broken = json.loads(result["result"]["value"])
                problems += [f"{path or '/'}: image did not load: {src}" for src in broken]
                count = tab.call("Runtime.evaluate", expression="document.images.length")
                images += count["result"]["value"] - len(broken)
                for name, shot_path in SCREENSHOTS.items():
                    if shot_path == path:
                        shot = tab.call("Page.captureScreenshot", format="png")
                        (screenshots / name).write_bytes(base64.b64decode(shot["data"]))
        finally:
            process.kill()
            process.wait()
            server.shutdown()
    return problems, images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", type=Path, default=Path("site"))
    parser.add_argument("--screenshots", type=Path, default=Path("site-check"))
    parser.add_argument("--chromium", default="chromium", help="the browser to run")
    args = parser.parse_args(argv)
    chromium = shutil.which(args.chromium)
    if not (args.site / "index.html").is_file():
        print(f"check_site: {args.site} holds no built site (run: opsgym docs)", file=sys.stderr)
        return 2
    if chromium is None:
        print(f"check_site: no {args.chromium} on PATH (apt-get install chromium)", file=sys.stderr)
        return 2
    pages = page_paths(args.site)
    problems = [f"file check: {p}" for p in check_files(args.site)]
    args.screenshots.mkdir(parents=True, exist_ok=True)
    seen, images = check_in_browser(args.site, chromium, args.screenshots)
    problems += [f"browser: {p}" for p in seen]
    for problem in problems:
        print(problem)
    shots = ", ".join(str(args.screenshots / name) for name in SCREENSHOTS)
    print(
        f"check_site: {len(pages)} pages, {images} images loaded in {Path(chromium).name}; "
        f"{len(problems)} problems; screenshots: {shots}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
