"""/docs works without internet (issue 14, item 6): the page and everything it
loads come from the service itself, on every role that serves HTTP, and it
offers the Authorize button for a bearer token.

The page does not touch the stores, so one (SQLite) is enough here.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from infra.settings import load_settings
from services.apidocs import SWAGGER_UI_PARAMETERS
from services.app import create_app
from tests.conftest import BOOT

HTTP_ROLES = ("all", "ingest", "query", "projections")
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class Loads(HTMLParser):
    """Every URL the page makes the browser fetch: scripts, stylesheets,
    icons and images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag in ("script", "img") else found.get("href") if tag == "link" else None
        if url is not None:
            self.urls.append(url)


def _loads(html: str) -> list[str]:
    parser = Loads()
    parser.feed(html)
    return parser.urls


@pytest.fixture(params=HTTP_ROLES)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(data_dir=tmp_path / "data", bootstrap_token=BOOT)
    with TestClient(create_app(settings, str(request.param))) as c:
        yield c


def test_docs_loads_only_what_the_service_serves(client: TestClient) -> None:
    page = client.get("/docs")  # no token: the page is public, the API behind it is not
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    urls = _loads(page.text)
    assert len(urls) == 3, urls  # the script, the stylesheet, the icon
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is not the service's own"
        assert parts.path.startswith("/docs/assets/")
        asset = client.get(url)
        assert asset.status_code == 200, url
        expected = MEDIA_TYPES[Path(parts.path).suffix]
        assert asset.headers["content-type"].split(";")[0] == expected, url
        assert len(asset.content) > 1000, url


def test_docs_reads_the_services_own_openapi_document(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "url: '/openapi.json'" in page
    assert '"persistAuthorization": false' in page  # a token is not left in the browser
    assert SWAGGER_UI_PARAMETERS["persistAuthorization"] is False
    document = client.get("/openapi.json")
    assert document.status_code == 200
    # What the Authorize button offers: services/openapi.py declares it.
    assert document.json()["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_the_bundle_is_swagger_ui_5(client: TestClient) -> None:
    """FastAPI writes OpenAPI 3.1, which Swagger UI reads from version 5 on."""
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle
    assert 'PACKAGE_VERSION:"5.' in bundle


def test_docs_routes_take_no_query_parameters(client: TestClient) -> None:
    for url in ("/docs", "/docs/assets/swagger-ui.css"):
        r = client.get(url, params={"x": "1"})
        assert r.status_code == 422, url
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == ["query", "x"]


def test_only_the_pages_own_assets_and_no_cdn_pages(client: TestClient) -> None:
    gone = ("/docs/assets/redoc.standalone.js", "/docs/assets/../core.py", "/redoc", "/docs/oauth2-redirect")
    for url in gone:
        assert client.get(url).status_code == 404, url


def test_assets_are_revalidated_and_not_sent_again_unchanged(client: TestClient) -> None:
    url = "/docs/assets/swagger-ui-bundle.js"
    first = client.get(url)
    assert first.headers["cache-control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    listed = client.get(url, headers={"If-None-Match": f'"other", W/{first.headers["etag"]}'})
    assert listed.status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
