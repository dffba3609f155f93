import pytest

from tests.browser.conftest import DESKTOP


@pytest.mark.django_db(transaction=True)
def test_admin_login_page_renders_in_chromium(live_server, browser, artifacts):
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/admin/login/")
    assert page.locator("input[name=username]").is_visible()
    page.screenshot(path=artifacts / "login.png")
