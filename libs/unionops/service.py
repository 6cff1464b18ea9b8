"""Wiring a service process: FastAPI for HTTP, FastStream for consuming, the outbox relay for
publishing, all started and stopped together by one lifespan."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, TypeVar

import asyncpg
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from faststream import AckPolicy, Context
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from opentelemetry import context as otel_context
from opentelemetry import trace

from contracts.events import DomainEvent, dlq_topic
from unionops import admin, db, migrate, problems
from unionops.auth import Authenticator
from unionops.consumer import IdempotentConsumer
from unionops.limits import RequestLimits
from unionops.kafka import broker_is_new, ensure_topics, mark_broker_seen, new_producer
from unionops import scrape
from unionops.metrics import prometheus_text, seed_consumer, setup_metrics
from unionops.pii import Vault
from unionops.relay import OutboxRelay
from unionops.settings import CommonSettings
from unionops.telemetry import setup_logging, setup_tracing, trace_id_hex

log = logging.getLogger(__name__)

# Swagger UI and the AsyncAPI viewer, vendored (libs/unionops/static/README.md says from where).
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static"


def swagger_page(openapi_url: str, title: str) -> HTMLResponse:
    """FastAPI's Swagger UI page with its script, style and icon served by the service itself."""
    from fastapi.openapi.docs import get_swagger_ui_html

    return get_swagger_ui_html(
        openapi_url=openapi_url, title=title,
        swagger_js_url=f"{STATIC_PATH}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_PATH}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_PATH}/swagger-ui/favicon-32x32.png",
    )


def asyncapi_page(specification) -> str:
    """FastStream's AsyncAPI page with the viewer served by the service itself; its icon links
    (to the AsyncAPI web site) are dropped rather than fetched from outside."""
    import re

    from faststream.specification.asyncapi.site import get_asyncapi_html

    html = get_asyncapi_html(specification, try_it_out_path=None,
                             asyncapi_js_url=f"{STATIC_PATH}/asyncapi/index.js",
                             asyncapi_css_url=f"{STATIC_PATH}/asyncapi/default.min.css")
    return re.sub(r'\s*<link rel="icon"[^>]*href="https?://[^"]*"[^>]*>', "", html)


BackgroundTask = Callable[["Runtime"], Awaitable[None]]
T = TypeVar("T")


@dataclass
class Runtime:
    """Everything a running service holds. Endpoints take what they need through the typed
    dependencies of `unionops.dependencies`; background tasks receive it as their argument."""

    name: str
    settings: CommonSettings
    database_url: str
    authenticator: Authenticator
    vault: Vault
    pool: asyncpg.Pool | None = None
    producer: AIOKafkaProducer | None = None
    broker: KafkaBroker | None = None
    relay: OutboxRelay | None = None
    consumers: list[IdempotentConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task] = field(default_factory=list)
    # The service's own long-lived objects (templates, a dispatcher), one per type.
    components: dict[type, object] = field(default_factory=dict)
    # On-call status: name -> SQL counting what an operator should look at (unionops.admin).
    status_queries: dict[str, str] = field(default_factory=dict)

    def component(self, cls: type[T]) -> T:
        try:
            return self.components[cls]  # type: ignore[return-value]
        except KeyError:
            raise LookupError(f"{self.name} registered no {cls.__name__}") from None


class ServiceApp(FastAPI):
    """A FastAPI app whose every request starts from an empty trace context.

    uvicorn pauses reading a socket whose request body outgrows its buffer and resumes it from
    inside the request that drains it; the event loop then runs the connection's later reads in
    that request's context, so every later request on the keep-alive connection would become a
    child of the first one's span. Starting each request afresh keeps one request one trace (a
    caller's `traceparent` is still joined: the instrumentation extracts it from the headers)."""

    async def __call__(self, scope, receive, send) -> None:
        token = otel_context.attach(otel_context.Context())
        try:
            await super().__call__(scope, receive, send)
        finally:
            otel_context.detach(token)


def create_app(
    *,
    name: str,
    description: str,
    settings: CommonSettings,
    routers: list[APIRouter],
    consumers: list[IdempotentConsumer] = (),
    startup: list[BackgroundTask] = (),
    background: list[BackgroundTask] = (),
    scrape_probes: list[scrape.ScrapeProbe] = (),
    components: list[object] = (),
    status_queries: dict[str, str] | None = None,
    title: str | None = None,
    database_url: str | None = None,
    migrations: Path | None = None,
    publishes: list[type[DomainEvent]] | None = None,
) -> FastAPI:
    """Build a service's ASGI app. `publishes` documents (in AsyncAPI) and creates the topics
    the service writes; each consumer gets a FastStream batch subscriber with its own group;
    `startup` hooks run once before traffic, `background` tasks run until shutdown;
    `scrape_probes` set the service's own gauges when `/metrics` is scraped (after the common
    ones: outbox backlog and age, dead letters, consumer lag); `components` are the service's
    own objects endpoints take with `unionops.dependencies.component(Type)`; `status_queries`
    add counts to the on-call status (`/admin/status`). By convention, and unless given: the
    title is "UnionOps <name>", the database the settings' `database_url`, the migrations the
    `migrations/` folder of the package `name`, and the events published those of the topics the
    service owns (`contracts.events.published_by`)."""
    import importlib

    from contracts.events import published_by

    title = title or f"UnionOps {name}"
    database_url = database_url or settings.database_url
    migrations = migrations or Path(importlib.import_module(name).__file__).parent / "migrations"
    publishes = published_by(name) if publishes is None else publishes
    runtime = Runtime(
        name=name,
        settings=settings,
        database_url=database_url,
        authenticator=Authenticator(settings),
        vault=Vault.from_settings(settings),
        consumers=list(consumers),
        components={type(c): c for c in components},
        status_queries=dict(status_queries or {}),
    )
    setup_metrics(name)  # before the FastAPI instrumentation takes its meter
    broker = KafkaBroker(settings.kafka_bootstrap_servers, client_id=name, logger=logging.getLogger("faststream"))
    runtime.broker = broker
    for cls in publishes:
        broker.publisher(cls.topic, title=f"{cls.topic}:{cls.event_type()}", schema=cls,
                         description=(cls.__doc__ or "").strip())
    for consumer in runtime.consumers:
        consumer.provide(runtime)
        if consumer._pool is None:
            consumer.bind(lambda: runtime.pool, lambda: runtime.producer, settings.consumer_max_retries)
        _subscribe(broker, consumer, settings)
        seed_consumer(consumer.name)
    lag = scrape.ConsumerLag()
    probes = [scrape.outbox, scrape.dead_letters, lag, *scrape_probes]
    spec = AsyncAPI(broker, title=f"{title} events", version="1.0.0", description=description)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        setup_logging(name, settings.log_level)
        settings.refuse_development_secrets()
        setup_tracing(name, settings.otel_exporter_otlp_endpoint)
        await migrate.on_start(database_url, migrations, migrate=settings.migrate_on_start, service=name)
        runtime.pool = await db.create_pool(database_url, max_size=10)
        topics = sorted({c.topic for c in publishes} | {t for c in runtime.consumers for t in c.topics}
                        | {dlq_topic(t) for c in runtime.consumers for t in c.topics})
        await ensure_topics(settings, topics)
        runtime.producer = new_producer(settings, client_id=f"{name}-relay")
        await _start_with_retry(runtime.producer.start)
        runtime.relay = OutboxRelay(
            database_url, runtime.producer, source=f"unionops/{name}", batch_size=settings.outbox_batch_size,
            retention_days=settings.outbox_retention_days, inbox_retention_days=settings.inbox_retention_days,
            idempotency_retention_days=settings.idempotency_retention_days,
            ensure_topics=lambda: ensure_topics(settings, topics, timeout=5),
            broker_is_new=lambda: broker_is_new(settings, name),
            broker_seen=lambda: mark_broker_seen(settings, name),
        )
        runtime.tasks.append(asyncio.create_task(runtime.relay.run(), name="outbox-relay"))
        for hook in startup:
            await hook(runtime)
        if runtime.consumers:
            await broker.start()
        for task in background:
            runtime.tasks.append(asyncio.create_task(task(runtime), name=getattr(task, "__name__", "task")))
        log.info("service started", extra={"service": name})
        try:
            yield
        finally:
            if runtime.consumers:
                await broker.stop()
            await lag.close()
            runtime.relay.stop()
            for t in runtime.tasks:
                t.cancel()
            await asyncio.gather(*runtime.tasks, return_exceptions=True)
            await runtime.producer.stop()
            await runtime.pool.close()
            provider = trace.get_tracer_provider()
            if hasattr(provider, "force_flush"):
                provider.force_flush(5000)

    # /docs and /asyncapi load their viewers from /static, not from a CDN: most union intranets have
    # no internet. ReDoc (CDN only) is not offered; Swagger UI shows the same document.
    app = ServiceApp(title=title, description=description, lifespan=lifespan, version="1.0.0",
                     docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
    problems.install(app)

    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # The per-chunk receive/send spans add nothing an operator reads and cost CPU per request.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health/.*,asyncapi.*,metrics,docs,static/.*",
                                       exclude_spans=["receive", "send"])

    @app.middleware("http")
    async def trace_id_header(request: Request, call_next):
        response = await call_next(request)
        tid = trace_id_hex()
        if tid:
            response.headers["X-Trace-Id"] = tid
        return response

    @app.get("/health/live", tags=["health"])
    async def live():
        return {"status": "ok"}

    async def database_answers() -> bool:
        try:
            await asyncio.wait_for(runtime.pool.fetchval("SELECT 1"), 2)
            return True
        except Exception:
            return False

    async def broker_answers() -> bool:
        try:
            await asyncio.wait_for(runtime.producer.client.fetch_all_metadata(), 2)
            return True
        except Exception:
            return False

    # Readiness is the database alone: with the broker away, writes still commit into the outbox
    # and are published when it is back, so taking every pod out of the load balancer would turn
    # a broker outage into an API outage. The broker's state is reported here and in /health/broker.
    @app.get("/health/ready", tags=["health"], responses={503: {"description": "database unreachable"}})
    async def ready():
        checks = {"database": await database_answers(), "broker": await broker_answers()}
        ok = checks["database"]
        body = {"service": name, "status": "ready" if ok else "not ready", "checks": checks,
                "relay_leader": bool(runtime.relay and runtime.relay.is_leader)}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/health/broker", tags=["health"], responses={503: {"description": "broker unreachable"}})
    async def broker_health():
        ok = await broker_answers()
        return JSONResponse({"status": "ok" if ok else "unreachable"}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics_endpoint():
        if runtime.pool is not None:
            await scrape.run_probes(runtime, probes)
        body, content_type = prometheus_text()
        return Response(body, media_type=content_type)

    @app.get("/asyncapi.json", tags=["docs"], summary="AsyncAPI document of the events published and consumed")
    async def asyncapi_json():
        return Response(spec.to_specification().to_json(), media_type="application/json")

    @app.get("/asyncapi", tags=["docs"], response_class=HTMLResponse)
    async def asyncapi_html():
        return HTMLResponse(asyncapi_page(spec.to_specification()))

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui():
        return swagger_page(app.openapi_url, f"{app.title} – API")

    for router in routers:
        app.include_router(router)
    app.include_router(admin.router)  # on call: status, dead letters, outbox replay, audit
    problems.document(app)
    app.add_middleware(RequestLimits, service=app, max_body_bytes=settings.http_max_body_bytes,
                       max_upload_bytes=settings.http_max_upload_bytes)
    return app


def _subscribe(broker: KafkaBroker, consumer: IdempotentConsumer, settings: CommonSettings) -> None:
    async def handle(message=Context("message")) -> None:
        records = message.raw_message
        await consumer.process(records)  # lag is computed when /metrics is scraped (unionops.scrape)

    handle.__name__ = consumer.name.replace(".", "_").replace("-", "_")
    consumer.subscriber = broker.subscriber(
        *consumer.topics,
        group_id=consumer.name,
        batch=True,
        max_records=settings.consumer_max_records,
        batch_timeout_ms=20,
        auto_offset_reset="earliest",
        # Offsets are committed only after the inbox transaction; infrastructure failures nack
        # the batch so it is fetched again.
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=max(500, settings.kafka_session_timeout_ms // 3),
        description=f"Handles {', '.join(consumer.handlers)} exactly once in effect (inbox table).",
    )
    consumer.subscriber(handle)


async def _start_with_retry(start: Callable[[], Awaitable[None]], timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await start()
            return
        except Exception:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.5)


def serve(app: FastAPI, port: int, host: str = "127.0.0.1") -> None:
    """Run the app under uvicorn (logging is configured by the app's lifespan)."""
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=10)
