"""GraphiQL at /graphql renders and runs a query with the internet cut off: every asset is ours."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import Browser, Gateway


def test_graphiql_renders_and_runs_a_query_with_no_internet(browser: Browser, gateway: Gateway) -> None:
    browser.sign_in(gateway.tokens["read"])  # GraphiQL reuses the tab's token
    page = browser.open("/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    expect(editor).to_be_visible()
    page.evaluate("""() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
                       .setValue('{ shops { name } currentToken { role } }')""")
    page.get_by_role("button", name=re.compile("Execute query")).click()
    result = page.locator(".graphiql-response")
    expect(result).to_contain_text('"alpha"')
    expect(result).to_contain_text('"READ"')
    browser.screenshot("graphiql")
    assert browser.offsite == []
