"""GraphiQL at /graphql renders and runs a query with the internet cut off: every asset is ours."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import Browser, Gateway, imported


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


def test_graphiql_follows_a_subscription_with_the_tabs_token(browser: Browser, gateway: Gateway) -> None:
    browser.sign_in(gateway.tokens["admin"])
    page = browser.open("/graphql")
    expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    document = 'subscription { jobRunUpdated(jobId: "%s") { status ordersSeen } }' % gateway.job_gid("alpha")
    page.evaluate("""(text) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
                       .setValue(text)""", document)
    page.get_by_role("button", name=re.compile("Execute query")).click()
    run = imported(gateway)
    result = page.locator(".graphiql-response")
    expect(result).to_contain_text('"SUCCEEDED"', timeout=30_000)
    expect(result).to_contain_text(f'"ordersSeen": {run.orders_seen}')
