"""Wiring of the notify service."""
from pathlib import Path

from contracts.events import NotificationDelivered, NotificationFailed
from notify import api, handlers
from notify.channels import EmailChannel
from notify.dispatcher import Dispatcher
from notify.settings import Settings
from notify.templates import TemplateRegistry
from unionops.consumer import IdempotentConsumer
from unionops.service import create_app

settings = Settings()
templates = TemplateRegistry(defaults={"sender": settings.city_name})

email = EmailChannel(
    host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from, username=settings.smtp_username,
    password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
    starttls=settings.smtp_starttls, timeout=settings.smtp_timeout_seconds,
    pool_size=settings.send_concurrency,  # one persistent connection per concurrent send at most
)
dispatcher = Dispatcher(settings, {email.name: email}, templates)

consumer = IdempotentConsumer("notify.events")
handlers.subscribe(consumer, vault=lambda: app.state.runtime.vault, templates=templates)


app = create_app(
    name="notify",
    title="UnionOps notify",
    description="通知：模板、渠道与投递状态（入会欢迎、帮扶受理、竞赛评分等）。",
    settings=settings,
    database_url=settings.database_url,
    migrations=Path(__file__).parent / "migrations",
    routers=[api.router],
    publishes=[NotificationDelivered, NotificationFailed],
    consumers=[consumer],
    background=[dispatcher.run],
)
app.state.runtime.extras.update(templates=templates, dispatcher=dispatcher)
