from pydantic import Field, SecretStr, model_validator

from unionops.settings import CommonSettings


class Settings(CommonSettings):
    database_url: str = Field("postgresql://postgres@127.0.0.1:55432/notify", alias="NOTIFY_DATABASE_URL")
    http_port: int = Field(8004, alias="NOTIFY_HTTP_PORT")

    smtp_host: str = Field("127.0.0.1", alias="SMTP_HOST")
    smtp_port: int = Field(2525, alias="SMTP_PORT")
    smtp_from: str = Field("市总工会 <noreply@unionops.local>", alias="SMTP_FROM")
    smtp_username: str | None = Field(None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(False, alias="SMTP_STARTTLS")
    smtp_timeout_seconds: float = Field(30.0, alias="SMTP_TIMEOUT_SECONDS", gt=0)

    # Issue 6 channels: SMS provider (HTTP), robot webhooks, per-channel provider rate limits.
    sms_provider_url: str = Field("http://127.0.0.1:8026", alias="SMS_PROVIDER_URL")
    sms_api_key: SecretStr = Field(SecretStr("dev-sms-key"), alias="SMS_API_KEY")
    sms_timeout_seconds: float = Field(10.0, alias="NOTIFY_SMS_TIMEOUT_SECONDS", gt=0)
    webhook_timeout_seconds: float = Field(10.0, alias="NOTIFY_WEBHOOK_TIMEOUT_SECONDS", gt=0)
    sms_rate_per_second: float = Field(50.0, alias="NOTIFY_SMS_RATE_PER_SECOND", ge=0)  # 0: unlimited
    sms_burst: int = Field(50, alias="NOTIFY_SMS_BURST", ge=1)
    webhook_rate_per_minute: float = Field(20.0, alias="NOTIFY_WEBHOOK_RATE_PER_MINUTE", ge=0)  # per bot
    webhook_burst: int = Field(20, alias="NOTIFY_WEBHOOK_BURST", ge=1)
    email_rate_per_second: float = Field(0.0, alias="NOTIFY_EMAIL_RATE_PER_SECOND", ge=0)
    # No SMS in this daily window (Beijing time); what falls due in it waits for its end.
    quiet_hours: str = Field("21:00-08:00", alias="NOTIFY_QUIET_HOURS")
    clock_offset_seconds: float = Field(0.0, alias="NOTIFY_CLOCK_OFFSET_SECONDS")  # tests: shift "now"

    # Sends of one delivery, the first included; then it fails with NotificationFailed.
    max_attempts: int = Field(5, alias="NOTIFY_MAX_ATTEMPTS", ge=1)
    # How long a notification waits for the member's e-mail address (contacts come on another topic).
    contact_wait_seconds: float = Field(600.0, alias="NOTIFY_CONTACT_WAIT_SECONDS", gt=0)
    retry_base_seconds: float = Field(5.0, alias="NOTIFY_RETRY_BASE_SECONDS", gt=0)
    retry_max_seconds: float = Field(900.0, alias="NOTIFY_RETRY_MAX_SECONDS", gt=0)
    # A claimed delivery whose sender died is sent again (same Message-ID) once its lease expires.
    send_lease_seconds: float = Field(120.0, alias="NOTIFY_SEND_LEASE_SECONDS", gt=0)
    dispatch_batch_size: int = Field(200, alias="NOTIFY_DISPATCH_BATCH_SIZE", ge=1)
    send_concurrency: int = Field(16, alias="NOTIFY_SEND_CONCURRENCY", ge=1)
    poll_interval_seconds: float = Field(1.0, alias="NOTIFY_POLL_INTERVAL_SECONDS", gt=0)
    # Members per fan-out chunk: one transaction, one channels query and one INSERT … SELECT each.
    fanout_chunk_size: int = Field(2000, alias="NOTIFY_FANOUT_CHUNK_SIZE", ge=1, le=50_000)

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> "Settings":
        # A lease shorter than one SMTP conversation would let a second dispatcher re-send
        # a mail that is still being sent.
        slowest = max(self.smtp_timeout_seconds, self.sms_timeout_seconds, self.webhook_timeout_seconds)
        if self.send_lease_seconds <= slowest * 2:
            raise ValueError("NOTIFY_SEND_LEASE_SECONDS must exceed twice the slowest channel timeout")
        return self
