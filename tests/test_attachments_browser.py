"""Filing a ticket with a screenshot in real Chromium (Debian's /usr/bin/chromium driven by Playwright) against a
live waitress server: the file goes up through the ticket form, its re-encoded preview shows on the ticket page,
and the link downloads the original as a file.

Screenshots of each step are saved under test-artifacts/browser/.
"""
from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.chromium import shot, sign_in
from tests.files import EXE

pytestmark = pytest.mark.slow


def test_a_customer_files_a_ticket_with_a_png(live, browser, tmp_path):
    _, base = live
    screenshot = tmp_path / "printer error.png"
    Image.new("RGB", (800, 600), (20, 120, 200)).save(screenshot, "PNG")
    disguised = tmp_path / "setup.png"
    disguised.write_bytes(EXE)

    context, page = sign_in(browser, base, "ann@acme.example")
    page.goto(base + "/tickets/new")
    page.get_by_label("Subject").fill("Printer shows E-42")
    page.get_by_label("Describe the problem").fill("The display shows E-42 after every job; screenshot attached.")

    # A disguised executable first: refused by name, and what was typed is still there.
    page.get_by_label("Attach files").set_input_files([str(screenshot), str(disguised)])
    with page.expect_navigation():
        page.get_by_role("button", name="Submit ticket").click()
    assert "“setup.png” is not a file type we accept" in page.locator(".error-summary").inner_text()
    assert page.get_by_label("Subject").input_value() == "Printer shows E-42"
    assert "E-42 after every job" in page.get_by_label("Describe the problem").input_value()
    shot(page, "attachments-1-refused")

    page.get_by_label("Attach files").set_input_files(str(screenshot))
    with page.expect_navigation():
        page.get_by_role("button", name="Submit ticket").click()
    assert "is submitted" in page.content()
    link = page.get_by_role("link", name="printer error.png")
    assert link.count() == 1
    preview = page.locator("ul.attachments img").first
    preview.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert preview.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [320, 240]
    shot(page, "attachments-2-ticket")

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "printer error.png"
    saved = tmp_path / "downloaded.png"
    download.save_as(saved)
    assert saved.read_bytes() == screenshot.read_bytes()
    assert Image.open(io.BytesIO(saved.read_bytes())).size == (800, 600)
    context.close()
