"""Talking to the outside: the delivery channels (e-mail over SMTP, SMS through a provider's
HTTP API, group-chat robot webhooks) and the e-mail wire format. A channel turns a rendered
message into a send and reports a failure as temporary or permanent."""
from notify.adapters.channels import Channel, OutgoingMessage, SendFailure
from notify.adapters.email import EmailChannel, classify_smtp_error, message_id
from notify.adapters.sms import SmsChannel
from notify.adapters.webhook import WebhookChannel, robot_signature

__all__ = ["Channel", "EmailChannel", "OutgoingMessage", "SendFailure", "SmsChannel", "WebhookChannel",
           "classify_smtp_error", "message_id", "robot_signature"]
