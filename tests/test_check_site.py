"""docs/check_site.py finds what a reader would: dead links and anchors, missing images,
console errors. Small hand-made sites, each with one known fault."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_site", ROOT / "docs" / "check_site.py")
check_site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_site)

PNG = bytes.fromhex(  # a 1x1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def make_site(root: Path, pages: dict[str, str]) -> Path:
    for path, body in pages.items():
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        icon = '<link rel="icon" href="/pixel.png">'  # else the browser asks for /favicon.ico
        file.write_text(f"<!doctype html><html><head>{icon}</head><body>{body}</body></html>")
    (root / "pixel.png").write_bytes(PNG)
    return root


def test_file_check_passes_a_sound_site_and_names_each_fault(tmp_path):
    site = make_site(
        tmp_path,
        {
            "index.html": '<a href="env/">env</a><a href="env/#rewards">r</a>'
            '<img src="pixel.png"><a href="https://example.org/x">out</a>',
            "env/index.html": '<h2 id="rewards">Rewards</h2><a href="../">home</a>'
            '<a href="#rewards">here</a>',
        },
    )
    assert check_site.page_paths(site) == ["", "env/"]
    assert check_site.check_files(site) == []

    (site / "env" / "index.html").write_text(
        '<html><body><a href="../missing/">x</a><a href="../#nowhere">y</a>'
        '<img src="../gone.png"></body></html>'
    )
    problems = check_site.check_files(site)
    assert problems == [
        "/: env/#rewards -> no id #rewards",
        "env/: ../missing/ -> no file missing/index.html",
        "env/: ../#nowhere -> no id #nowhere",
        "env/: ../gone.png -> no file gone.png",
    ]


def test_event_problems_reads_the_devtools_events_that_matter():
    events = [
        {"method": "Runtime.consoleAPICalled", "params": {"type": "log", "args": []}},
        {
            "method": "Runtime.consoleAPICalled",
            "params": {"type": "error", "args": [{"value": "boom"}]},
        },
        {
            "method": "Runtime.exceptionThrown",
            "params": {"exceptionDetails": {"text": "Uncaught", "exception": {}}},
        },
        {"method": "Network.responseReceived", "params": {"response": {"status": 200, "url": "a"}}},
        {"method": "Network.responseReceived", "params": {"response": {"status": 404, "url": "b"}}},
        {"method": "Network.loadingFailed", "params": {"errorText": "net::X", "canceled": True}},
        {"method": "Network.loadingFailed", "params": {"errorText": "net::Y"}},
        {"method": "Log.entryAdded", "params": {"entry": {"level": "warning", "text": "w"}}},
    ]
    assert check_site.event_problems(events) == [
        "console.error: boom",
        "uncaught exception: Uncaught",
        "HTTP 404: b",
        "request failed: net::Y",
    ]


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="no chromium (apt-get install chromium)"
)
def test_the_browser_sees_console_errors_and_broken_images(tmp_path):
    site = make_site(
        tmp_path / "site",
        {
            "index.html": '<img src="pixel.png"><a href="bad/">bad</a>',
            "bad/index.html": '<img src="../pixel.png"><img src="../absent.png">'
            "<script>console.error('broken page')</script>",
        },
    )
    shots = tmp_path / "shots"
    shots.mkdir()
    problems, images = check_site.check_in_browser(site, shutil.which("chromium"), shots)
    assert images == 2
    assert "bad/: console.error: broken page" in problems
    assert any(p.startswith("bad/: image did not load: ") and "absent.png" in p for p in problems)
    assert not [p for p in problems if p.startswith("/:")]
    assert (shots / "home.png").read_bytes()[:8] == PNG[:8]
