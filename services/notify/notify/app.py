"""Wiring of the notify service."""
from notify import consumers
from notify.adapters import EmailChannel, SmsChannel, WebhookChannel
from notify.api import routers
from notify.background import gauges, startup
from notify.background.dispatcher import Dispatcher
from notify.background.fanout import FanoutWorker
from notify.domain.templates import TemplateRegistry
from notify.settings import Settings
from unionops import metrics
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
fanout_worker = FanoutWorker(chunk_size=settings.fanout_chunk_size, poll_interval=settings.poll_interval_seconds)

app = create_app(
    name="notify",
    description="通知：模板、渠道与投递状态（入会欢迎、帮扶受理、竞赛评分等）。",
    settings=settings,
    routers=routers,
    consumers=[consumers.consumer],
    startup=[startup.seal_clear_columns],
    background=[dispatcher.run, fanout_worker.run],
    scrape_probes=[gauges.probe],
    components=[templates, dispatcher, dispatcher.renderer],
    status_queries={
        # what `make status` shows as notify's delivery queue (GET /admin/status)
        "deliveries_pending": "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')",
        "delivery_dlq": "SELECT count(*) FROM delivery_dlq",
    },
)
metrics.seed_notify()
