"""Back and Forward: htmx caches no page (pay figures would sit in the tab's storage, and a restored page showed
one search's table under another's search box); a history-restore request gets the whole page."""

from __future__ import annotations

from tests.conftest import sign_in


def test_htmx_keeps_no_history_and_a_restore_request_gets_the_whole_page(client, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    sign_in(client, "ana@example.com")
    page = client.get("/deals?q=acme").text
    assert '"historyCacheSize": 0' in page and '"refreshOnHistoryMiss": true' in page
    partial = client.get("/deals?q=acme", headers={"HX-Request": "true"}).text
    assert "<html" not in partial  # an ordinary htmx request: the table alone
    restored = client.get("/deals?q=acme", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}).text
    assert restored.lstrip().lower().startswith("<!doctype html>")
    assert 'value="acme"' in restored  # the search box says what the table shows
