"""The review panel in a real browser, against a real Home Assistant with the demo's month.

Debian's chromium, driven by Playwright for Python (its own browser download is not used):
log in, open the panel, see the list and a chart, edit a time and see the backtest change,
create it, find the automation, open it in the editor, undo it, dismiss another, reload
and find the decisions kept, see two of the home's own automations that contradict each
other under "Your automations"; a non-admin gets no panel and is refused by the commands.
With ``AI_AUTOMATION_SCREENSHOTS=DIR`` the README's screenshots are written to DIR.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.demo import PASSWORD, USERNAME, DemoHome, running_home

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = os.environ.get("AI_AUTOMATION_SCREENSHOTS")
KID, KID_PASSWORD = "kid", "kid-password"  # a throwaway non-admin of the test's own home

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium here (scripts/test installs Debian's with apt-get)"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="Playwright for Python is not installed here"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def home(socket_enabled: None, tmp_path: Path) -> Iterator[DemoHome]:
    """The demo's home, analysed once (nothing accepted yet)."""
    with running_home(tmp_path / "demo", _free_port()) as demo:
        reply = demo.client.request("POST", "/api/services/ai_automation/run_analysis?return_response", {})
        assert reply["service_response"]["suggestions"], reply
        yield demo


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # only where it is installed

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def _log_in(browser: Any, home: DemoHome, username: str, password: str, **context: Any) -> Any:
    page = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context}).new_page()
    page.goto(f"{home.url}/")
    page.wait_for_url(re.compile(r"/auth/authorize"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^(?!.*/auth/).*$"))
    page.locator("home-assistant").wait_for()
    return page


def _automations(home: DemoHome) -> list[dict[str, Any]]:
    return yaml.safe_load((home.config_dir / "automations.yaml").read_text(encoding="utf-8")) or []


def _status(page: Any) -> str:
    text: str = page.locator(".detail .status-line").inner_text()
    return text


def _shoot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


def _call_ws(page: Any, message: dict[str, Any]) -> Any:
    """A websocket command from the logged-in page, through the frontend's own connection."""
    return page.evaluate(
        """async (message) => {
            const hass = document.querySelector("home-assistant").hass;
            try { return {ok: true, result: await hass.callWS(message)}; }
            catch (err) { return {ok: false, code: err.code, message: err.message}; }
        }""",
        message,
    )


def test_review_create_undo_and_dismiss_in_the_browser(home: DemoHome, browser: Any) -> None:
    from playwright.sync_api import expect  # only where it is installed

    page = _log_in(browser, home, USERNAME, PASSWORD)
    expect(page.locator("ha-sidebar").get_by_text("AI Automation")).to_have_count(1)

    # The list: pending suggestions, best first, the last job's summary.
    page.goto(f"{home.url}/ai-automation")
    panel = page.locator("ai-automation-panel")
    kitchen = panel.locator(".item", has_text="Turn on Kitchen light at")
    kitchen.wait_for()
    assert re.search(r"Last analysis .+: done, \d+ days read", panel.locator(".job").inner_text())
    assert panel.locator(".tab.active").inner_text().startswith("Suggested")
    _shoot(page, "panel-list")

    # A chart of the analysed days, and the backtest as found.
    kitchen.locator(".item-head").click()
    chart = kitchen.locator("svg.chart")
    chart.wait_for()
    assert chart.locator("circle.act.hit").count() >= 15
    assert chart.locator("rect.fire").count() >= 15
    found = _status(page)
    assert re.search(r"right (1[5-9]|2\d) times", found), found
    kitchen.scroll_into_view_if_needed()
    _shoot(page, "panel-suggestion")

    # Edit the time: the backtest and the YAML follow.
    kitchen.locator("input[data-field=time]").fill("10:30")
    expect(kitchen.locator(".status-line")).to_contain_text("right 0 times")
    assert re.search(r"at: '?10:30:00", kitchen.locator(".yaml pre").inner_text())
    assert chart.locator("circle.act.missed").count() >= 15  # the routine, missed every day
    # Five minutes later: the days it was done by 06:35 fall out of the 15 minutes, most stay.
    kitchen.locator("input[data-field=time]").fill("06:50")
    expect(kitchen.locator(".yaml pre")).to_contain_text(re.compile(r"at: '?06:50:00"))
    assert re.search(r"right (1[5-9]|2\d) times", _status(page))

    # Create the edited version: in automations.yaml, an automation entity, the editor.
    kitchen.locator("[data-action=create]").click()
    panel.get_by_text("The automation was created and is on.").wait_for()
    (created,) = [a for a in _automations(home) if a["id"].startswith("ai_")]
    assert created["triggers"] == [{"trigger": "time", "at": "06:50:00"}]
    states = home.client.request("GET", "/api/states")
    automation = next(
        s for s in states if s["entity_id"].startswith("automation.") and "06_50" in s["entity_id"]
    )
    assert automation["state"] == "on"
    assert panel.locator(".tab.active").inner_text().startswith("Created")
    panel.locator("[data-action=open]").click()
    page.wait_for_url(re.compile(rf"/config/automation/edit/{created['id']}$"))
    page.get_by_text("06:50", exact=False).first.wait_for()

    # Undo: the automation goes, the suggestion is pending again.
    page.goto(f"{home.url}/ai-automation?suggestion={created['id']}")
    panel.locator("[data-action=undo]").click()
    panel.get_by_text("The automation was removed; the suggestion is back.").wait_for()
    assert [a for a in _automations(home) if a["id"] == created["id"]] == []
    assert automation["entity_id"] not in {s["entity_id"] for s in home.client.request("GET", "/api/states")}

    # Bedtime: the two lounge lights as one suggestion, a chart each; one left out, the YAML
    # does the other only; back in, both.
    panel.locator(".tab", has_text="Suggested").click()
    bedtime = panel.locator(".item", has_text="Lounge floor lamp")
    bedtime.locator(".item-head").click()
    expect(bedtime.locator(".chart-title")).to_have_count(2)
    expect(bedtime.locator("input[data-part]")).to_have_count(2)
    yaml_text = bedtime.locator(".yaml pre")
    expect(yaml_text).to_contain_text("light.lounge_floor_lamp")
    bedtime.locator("input[data-part='light.lounge_floor_lamp']").uncheck()
    expect(yaml_text).not_to_contain_text("light.lounge_floor_lamp")
    expect(yaml_text).to_contain_text("light.lounge")
    expect(bedtime.locator(".chart-title")).to_have_count(1)
    bedtime.locator("input[data-part='light.lounge']").click()  # the last one stays
    expect(bedtime.locator("input[data-part='light.lounge']")).to_be_checked()
    bedtime.scroll_into_view_if_needed()
    _shoot(page, "panel-group")
    bedtime.locator("input[data-part='light.lounge_floor_lamp']").check()
    expect(yaml_text).to_contain_text("light.lounge_floor_lamp")
    bedtime.locator(".item-head").click()

    # Dismiss another for 30 days, with a reason.
    garden = panel.locator(".item", has_text="Turn off Garden light at")
    garden.locator(".item-head").click()
    garden.locator("[data-action=dismiss]").click()
    garden.locator("select[data-dismiss=days]").select_option("30")
    garden.locator("input[data-dismiss=reason]").fill("We like it on at night")
    garden.locator("[data-action=dismiss-confirm]").click()
    panel.get_by_text("The suggestion was dismissed.").wait_for()

    # Reload: the decisions are kept.
    page.reload()
    panel.locator(".tab", has_text="Dismissed").click()
    dismissed = panel.locator(".item", has_text="Turn off Garden light at")
    dismissed.wait_for()
    assert "We like it on at night" in dismissed.inner_text()
    assert "Demo" in dismissed.inner_text()
    panel.locator(".tab", has_text="Suggested").click()
    panel.locator(".item", has_text="Turn on Kitchen light at").wait_for()
    assert panel.locator(".tab", has_text="Created").locator(".count").inner_text() == "0"

    # Two automations of the home's own that undo each other (saved as the editor saves them).
    assert panel.locator(".own").count() == 0
    for config_id, service, at in (
        ("night_on", "turn_on", "03:10:00"),
        ("night_off", "turn_off", "03:12:00"),
    ):
        home.client.request(
            "POST",
            f"/api/config/automation/config/{config_id}",
            {
                "alias": f"Night {service}",
                "triggers": [{"trigger": "time", "at": at}],
                "actions": [{"action": f"light.{service}", "target": {"entity_id": "light.kitchen"}}],
            },
        )

    # Run the analysis from the panel: its progress, then the finished job; the decisions stay.
    panel.locator("button.run").click()
    panel.get_by_text("The analysis has finished.").wait_for()
    expect(panel.locator(".job")).to_contain_text("done")
    expect(panel.locator(".tab", has_text="Dismissed").locator(".count")).to_have_text("1")

    # The run compared the home's automations: "Your automations" says they contradict.
    own = panel.locator(".own")
    expect(own.locator("h2")).to_have_text("Your automations")
    expect(own.locator(".insight.contradiction")).to_contain_text(
        "These work against each other on Kitchen light at about 03:10 / 03:12"
    )
    expect(own.locator(".parties li")).to_have_text(
        ["Night turn_on · turns it on", "Night turn_off · turns it off"]
    )
    own.scroll_into_view_if_needed()
    _shoot(page, "panel-insights")
    own.locator("a[data-edit=night_off]").click()
    page.wait_for_url(re.compile(r"/config/automation/edit/night_off$"))
    assert {a["id"] for a in _automations(home)} == {"night_on", "night_off"}  # read, never changed

    # Dark theme and a phone-sized screen (the screenshots of the README).
    if SHOTS:
        phone = _log_in(
            browser, home, USERNAME, PASSWORD, color_scheme="dark", viewport={"width": 390, "height": 844}
        )
        phone.goto(f"{home.url}/ai-automation")
        phone.locator("ai-automation-panel .item").first.wait_for()
        _shoot(phone, "panel-phone-dark")


def test_a_non_admin_gets_no_panel_and_is_refused(home: DemoHome, browser: Any) -> None:
    admin = _log_in(browser, home, USERNAME, PASSWORD)
    user = _call_ws(admin, {"type": "config/auth/create", "name": "Kid", "group_ids": ["system-users"]})
    assert user["ok"], user
    login = _call_ws(
        admin,
        {
            "type": "config/auth_provider/homeassistant/create",
            "user_id": user["result"]["user"]["id"],
            "username": KID,
            "password": KID_PASSWORD,
        },
    )
    assert login["ok"], login

    page = _log_in(browser, home, KID, KID_PASSWORD)

    page.locator("ha-sidebar").get_by_text("History").wait_for()  # the sidebar is drawn
    assert page.locator("ha-sidebar").get_by_text("AI Automation").count() == 0
    for command in ("suggestions", "run"):
        refused = _call_ws(page, {"type": f"ai_automation/{command}"})
        assert (refused["ok"], refused["code"]) == (False, "unauthorized")
    page.goto(f"{home.url}/ai-automation")
    page.wait_for_timeout(2000)
    assert page.locator("ai-automation-panel").count() == 0
