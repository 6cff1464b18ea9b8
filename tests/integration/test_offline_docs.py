"""The API and event documentation pages work without internet (most union intranets have none):
/docs (Swagger UI) and /asyncapi (AsyncAPI viewer) load everything from the service itself."""
from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest

from tests.support.processes import client_fixture

pytestmark = [pytest.mark.integration,
              pytest.mark.services("notify")]

CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}


client = client_fixture(lambda stack: stack.url("notify"))


def referenced(html: str) -> list[str]:
    """Every address the page makes a browser load: src, href and the Swagger UI's spec url."""
    return re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html) + re.findall(r"url:\s*'([^']+)'", html)


@pytest.mark.parametrize("page", ["/docs", "/asyncapi"])
def test_the_documentation_pages_load_nothing_from_outside_the_service(client, page):
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text[:500]
    html = r.text
    links = referenced(html)
    assert links, "the page references no assets"
    outside = [u for u in links if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", u, re.I)]
    assert outside == [], f"{page} loads from outside the service: {outside}"
    for host in ("unpkg.com", "jsdelivr", "cdnjs", "asyncapi.com", "fastapi.tiangolo.com", "googleapis"):
        assert host not in html, host

    scripts = [u for u in links if u.endswith(".js")]
    styles = [u for u in links if u.endswith(".css")]
    assert scripts and styles, links
    for url in links:
        asset = client.get(urljoin(page, url))
        assert asset.status_code == 200, (url, asset.status_code)
        kind = next((t for ext, t in CONTENT_TYPES.items() if url.endswith(ext)), None)
        assert kind is not None, url
        assert kind in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 100, url


def test_the_vendored_assets_are_not_operations_of_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(p.startswith(("/static", "/docs")) for p in paths), sorted(paths)
    assert client.get("/redoc").status_code == 404  # ReDoc exists only on a CDN: not offered
