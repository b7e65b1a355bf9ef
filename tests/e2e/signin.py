"""Signing a browser page in through the login form, as a person would."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

PASSWORD = "correct horse battery"


def signed_in(
    browser: Browser, base_url: str, username: str, *, then: str = "/", width: int = 1300
) -> Page:
    """A new page signed in as `username` (password PASSWORD), landed on `then`; it accepts
    every confirm() the page asks."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base_url}/login?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base_url + then)
    return page
