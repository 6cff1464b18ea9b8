"""The dashboard's HTTP side: the page, its chart library (plotly.js from the installed `plotly`
wheel, served from here: no CDN), the figures and readiness."""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from citydash.feed import Feed
from citydash.store import Store

PAGE = Path(__file__).with_name("page.html")
# A recomputation reads the whole register: not more often than this unless asked for fresh figures.
MIN_INTERVAL = 2.0


def plotly_js() -> Path:
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        raise RuntimeError("plotly.min.js is missing from the installed plotly package")
    return path


class Figures:
    """The figures, recomputed (in a thread, from the SQLite file) when events changed them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.version = 0          # bumped by the feed for every batch that changed something
        self._computed_version = -1
        self._computed_at = 0.0
        self._figures: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    def changed(self) -> None:
        self.version += 1

    async def get(self, fresh: bool = False) -> dict[str, Any]:
        async with self._lock:
            stale = self._computed_version != self.version
            if self._figures is None or (stale and (fresh or time.monotonic() - self._computed_at >= MIN_INTERVAL)):
                version = self.version
                self._figures = await asyncio.to_thread(self.store.figures)
                self._computed_version, self._computed_at = version, time.monotonic()
            return self._figures


def create_app(store: Store, feed: Feed | None) -> FastAPI:
    figures = Figures(store)
    if feed is not None:
        feed.on_change = figures.changed

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        task = asyncio.create_task(feed.run()) if feed is not None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    app = FastAPI(title="城市工会数据看板", lifespan=lifespan, docs_url=None, redoc_url=None)
    script = plotly_js()

    @app.get("/", response_class=HTMLResponse)
    async def page():
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @app.get("/static/plotly.min.js")
    async def plotly():
        return FileResponse(script, media_type="text/javascript")

    @app.get("/figures.json")
    async def get_figures(fresh: bool = False):
        body = dict(await figures.get(fresh))
        body["feed"] = {"ready": bool(feed and feed.ready), "broker_restarts_seen": feed.restarts_seen if feed else 0}
        return JSONResponse(body)

    @app.get("/deliveries.json")
    async def deliveries():
        """Delivered notifications per source event id and channel (for reconciliation)."""
        return JSONResponse(await asyncio.to_thread(store.deliveries_by_source))

    @app.get("/health/live")
    async def live():
        return {"status": "ok"}

    @app.get("/health/ready")
    async def ready():
        if feed is not None and not feed.ready:
            return Response('{"status":"starting"}', status_code=503, media_type="application/json")
        return {"status": "ready"}

    return app
