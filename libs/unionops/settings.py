"""Settings every service shares, read from the environment (and `.env` when present)."""
from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values published in this repository (defaults, .env.example): fine on a developer's machine,
# a disaster anywhere else. Outside development mode a service refuses to start with them.
DEVELOPMENT_SECRETS = {
    "jwt_secret": "dev-only-change-me-unionops-jwt-secret",
    "pii_encryption_key": "ZGV2LW9ubHktcGlpLWVuY3J5cHRpb24ta2V5LTMyYiE=",
    "pii_hash_key": "ZGV2LW9ubHktcGlpLWhhc2gta2V5LWZvci1sb29rdXA=",
    "pii_contact_keys": "dev1:ZGV2LW9ubHktY29udGFjdC1rZWstMzItYnl0ZXMtazE=",
    "pii_hr_keys": "dev1:ZGV2LW9ubHktaHItaWQtbnVtYmVyLWtleS0zMmItazE=",
}


class InsecureConfiguration(RuntimeError):
    """A service was asked to start outside development mode with a published or empty secret."""


class CommonSettings(BaseSettings):
    """Connections and policies that are the same for every service.

    Each service subclasses this and adds its own `database_url` (``<SERVICE>_DATABASE_URL``)
    and HTTP port, so one `.env` can configure the whole system."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field("127.0.0.1:19092", alias="KAFKA_BOOTSTRAP_SERVERS")
    # Tansu (the local broker) cannot do InitProducerId; production Apache Kafka turns this on.
    kafka_enable_idempotence: bool = Field(False, alias="KAFKA_ENABLE_IDEMPOTENCE")
    kafka_topic_partitions: int = Field(6, alias="KAFKA_TOPIC_PARTITIONS", ge=1)
    kafka_replication_factor: int = Field(1, alias="KAFKA_REPLICATION_FACTOR", ge=1)
    kafka_session_timeout_ms: int = Field(6000, alias="KAFKA_SESSION_TIMEOUT_MS")
    # Consumer lag's end of partition: true on Apache Kafka (ListOffsets); the local Tansu answers
    # ListOffsets wrongly, so there the consumer's last seen high-water mark stands in for it.
    kafka_lag_from_end_offsets: bool = Field(False, alias="KAFKA_LAG_FROM_END_OFFSETS")

    otel_exporter_otlp_endpoint: str | None = Field("http://127.0.0.1:4318", alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    log_level: str = Field("INFO", alias="LOG_LEVEL")

    # The local stack and the tests set this; production never does. Only in development mode
    # may a service start with the development secrets published here.
    development_mode: bool = Field(False, alias="UNIONOPS_DEVELOPMENT_MODE")

    jwt_secret: str = Field(DEVELOPMENT_SECRETS["jwt_secret"], alias="JWT_SECRET")
    jwt_issuer: str = Field("unionops", alias="JWT_ISSUER")
    jwt_audience: str = Field("unionops", alias="JWT_AUDIENCE")
    jwt_jwks_url: str | None = Field(None, alias="JWT_JWKS_URL")
    # Tokens must carry `exp` and `iat`; one lived longer than its role allows is refused.
    # Staff (and members) sign in for a working day; machine clients may be given longer.
    jwt_staff_max_lifetime_seconds: int = Field(12 * 3600, alias="JWT_STAFF_MAX_LIFETIME_SECONDS", ge=60, le=7 * 86400)
    jwt_service_max_lifetime_seconds: int = Field(24 * 3600, alias="JWT_SERVICE_MAX_LIFETIME_SECONDS", ge=60,
                                                  le=90 * 86400)
    jwt_clock_skew_seconds: int = Field(60, alias="JWT_CLOCK_SKEW_SECONDS", ge=0, le=300)

    # 32-byte keys, base64. The defaults are for local development only.
    pii_encryption_key: str = Field(DEVELOPMENT_SECRETS["pii_encryption_key"], alias="PII_ENCRYPTION_KEY")
    pii_hash_key: str = Field(DEVELOPMENT_SECRETS["pii_hash_key"], alias="PII_HASH_KEY")
    # Key rings (``id:base64key,...``, the first is current; older ids still decrypt). Development
    # defaults only. PII_CONTACT_KEYS: the KEKs that wrap each member's data key — membership and
    # notify alone hold them. PII_HR_KEYS: what the HR systems seal ID numbers under for membership.
    pii_contact_keys: str = Field(DEVELOPMENT_SECRETS["pii_contact_keys"], alias="PII_CONTACT_KEYS")
    pii_hr_keys: str = Field(DEVELOPMENT_SECRETS["pii_hr_keys"], alias="PII_HR_KEYS")

    # Start-up applies pending migrations (the local stack relies on it). Where a Job runs
    # `python -m unionops.migrate apply <service>` first (production), false: start-up then only
    # checks and refuses to start against a database with pending or changed migrations.
    migrate_on_start: bool = Field(True, alias="MIGRATE_ON_START")

    outbox_retention_days: int = Field(7, alias="OUTBOX_RETENTION_DAYS", ge=1)
    # The inbox remembers applied events longer than the outbox keeps them for replay, so an
    # event published again is still known as applied (checked below).
    inbox_retention_days: int = Field(30, alias="INBOX_RETENTION_DAYS", ge=1)
    idempotency_retention_days: int = Field(7, alias="IDEMPOTENCY_RETENTION_DAYS", ge=1)
    outbox_batch_size: int = Field(500, alias="OUTBOX_BATCH_SIZE", ge=1)
    consumer_max_retries: int = Field(3, alias="CONSUMER_MAX_RETRIES", ge=0)
    consumer_max_records: int = Field(500, alias="CONSUMER_MAX_RECORDS", ge=1)

    http_host: str = Field("127.0.0.1", alias="HTTP_HOST")
    # Request bodies larger than this are refused with 413 before they are read whole; routes
    # marked as uploads (the member import sheet) take up to the upload limit.
    http_max_body_bytes: int = Field(1_048_576, alias="HTTP_MAX_BODY_BYTES", ge=1024)
    http_max_upload_bytes: int = Field(20_971_520, alias="HTTP_MAX_UPLOAD_BYTES", ge=1024)

    # The city whose federation this deployment serves; its root unit's id derives from the code.
    city_region_code: str = Field("510100", alias="CITY_REGION_CODE", pattern=r"^\d{6}$")
    city_name: str = Field("示例市总工会", alias="CITY_NAME")

    @model_validator(mode="after")
    def _inbox_outlives_outbox(self):
        if self.inbox_retention_days <= self.outbox_retention_days:
            raise ValueError("INBOX_RETENTION_DAYS must be longer than OUTBOX_RETENTION_DAYS: a replayed event"
                             " must still be known as applied")
        return self

    def refuse_development_secrets(self) -> None:
        """Raise InsecureConfiguration outside development mode when a secret is empty or one of
        the published development values (JWT_SECRET only matters while no JWKS is configured)."""
        if self.development_mode:
            return
        bad = []
        for name, published in DEVELOPMENT_SECRETS.items():
            if name == "jwt_secret" and self.jwt_jwks_url:
                continue
            value = (getattr(self, name) or "").strip()
            # A key ring may not keep a published key, not even as an older one.
            published_keys = {k.rpartition(":")[2] for k in published.split(",")}
            if not value or value == published or published_keys & {k.rpartition(":")[2] for k in value.split(",")}:
                bad.append(self.model_fields[name].alias or name.upper())
        if bad:
            raise InsecureConfiguration(
                f"refusing to start: {', '.join(bad)} empty or the published development value; set real "
                "secrets, or UNIONOPS_DEVELOPMENT_MODE=true on a developer's machine")
