"""Wiring of the notify service."""
from pathlib import Path

from contracts.events import NotificationDelivered, NotificationFailed
from notify import (api, api_bots, api_fanouts, api_inbox, api_officers, api_preferences, bots, contacts, gauges,
                    handlers, officers)
from notify.channels import EmailChannel, SmsChannel, WebhookChannel
from notify.dispatcher import Dispatcher
from notify.fanout import FanoutWorker
from notify.settings import Settings
from notify.templates import TemplateRegistry
from unionops import metrics
from unionops.consumer import IdempotentConsumer
from unionops.service import create_app

settings = Settings()
templates = TemplateRegistry(defaults={"sender": settings.city_name})

# An empty SMTP_USERNAME / SMTP_PASSWORD (a relay without login, set so in compose) means no login.
email = EmailChannel(
    host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
    username=settings.smtp_username or None,
    password=(settings.smtp_password.get_secret_value() or None) if settings.smtp_password else None,
    starttls=settings.smtp_starttls, timeout=settings.smtp_timeout_seconds,
    pool_size=settings.send_concurrency,  # one persistent connection per concurrent send at most
)
sms = SmsChannel(base_url=settings.sms_provider_url, api_key=settings.sms_api_key.get_secret_value(),
                 timeout=settings.sms_timeout_seconds)
webhook = WebhookChannel(timeout=settings.webhook_timeout_seconds)
dispatcher = Dispatcher(settings, {c.name: c for c in (email, sms, webhook)}, templates)

consumer = IdempotentConsumer("notify.events")
fanout_worker = FanoutWorker(chunk_size=settings.fanout_chunk_size, poll_interval=settings.poll_interval_seconds)
handlers.subscribe(consumer, vault=lambda: app.state.runtime.vault, templates=templates)


async def seal_clear_columns(runtime) -> None:
    """Start-up, one transaction: what older migrations kept in clear is sealed once — robot URLs
    (before 006), contacts (before 007), officers' e-mail addresses (before 009)."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        await bots.encrypt_stored_urls(conn, runtime.vault)
        # Contacts kept before migration 007 (clear e-mail) are sealed under a member data key.
        await contacts.seal_stored(conn, runtime.vault)
        # Officers' e-mail addresses kept in clear before migration 009 are encrypted.
        await officers.encrypt_stored_emails(conn, runtime.vault)


app = create_app(
    name="notify",
    title="UnionOps notify",
    description="通知：模板、渠道与投递状态（入会欢迎、帮扶受理、竞赛评分等）。",
    settings=settings,
    database_url=settings.database_url,
    migrations=Path(__file__).parent / "migrations",
    routers=[api.router, api_inbox.router, api_preferences.router, api_officers.router, api_bots.router,
             api_fanouts.router],
    publishes=[NotificationDelivered, NotificationFailed],
    consumers=[consumer],
    startup=[seal_clear_columns],
    background=[dispatcher.run, fanout_worker.run],
    scrape_probes=[gauges.probe],
    components=[templates, dispatcher],
    status_queries={
        # what `make status` shows as notify's delivery queue (GET /admin/status)
        "deliveries_pending": "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')",
        "delivery_dlq": "SELECT count(*) FROM delivery_dlq",
    },
)
metrics.seed_notify()
