"""Settings every service shares, read from the environment (and `.env` when present)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    otel_exporter_otlp_endpoint: str | None = Field("http://127.0.0.1:4318", alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    log_level: str = Field("INFO", alias="LOG_LEVEL")

    jwt_secret: str = Field("dev-only-change-me-unionops-jwt-secret", alias="JWT_SECRET")
    jwt_issuer: str = Field("unionops", alias="JWT_ISSUER")
    jwt_audience: str = Field("unionops", alias="JWT_AUDIENCE")
    jwt_jwks_url: str | None = Field(None, alias="JWT_JWKS_URL")

    # 32-byte keys, base64. The defaults are for local development only.
    pii_encryption_key: str = Field("ZGV2LW9ubHktcGlpLWVuY3J5cHRpb24ta2V5LTMyYiE=", alias="PII_ENCRYPTION_KEY")
    pii_hash_key: str = Field("ZGV2LW9ubHktcGlpLWhhc2gta2V5LWZvci1sb29rdXA=", alias="PII_HASH_KEY")
    # Key rings (``id:base64key,...``, the first is current; older ids still decrypt). Development
    # defaults only. PII_CONTACT_KEYS: the KEKs that wrap each member's data key — membership and
    # notify alone hold them. PII_HR_KEYS: what the HR systems seal ID numbers under for membership.
    pii_contact_keys: str = Field("dev1:ZGV2LW9ubHktY29udGFjdC1rZWstMzItYnl0ZXMtazE=", alias="PII_CONTACT_KEYS")
    pii_hr_keys: str = Field("dev1:ZGV2LW9ubHktaHItaWQtbnVtYmVyLWtleS0zMmItazE=", alias="PII_HR_KEYS")

    outbox_retention_days: int = Field(7, alias="OUTBOX_RETENTION_DAYS", ge=1)
    outbox_batch_size: int = Field(500, alias="OUTBOX_BATCH_SIZE", ge=1)
    consumer_max_retries: int = Field(3, alias="CONSUMER_MAX_RETRIES", ge=0)
    consumer_max_records: int = Field(500, alias="CONSUMER_MAX_RECORDS", ge=1)

    http_host: str = Field("127.0.0.1", alias="HTTP_HOST")

    # The city whose federation this deployment serves; its root unit's id derives from the code.
    city_region_code: str = Field("510100", alias="CITY_REGION_CODE", pattern=r"^\d{6}$")
    city_name: str = Field("示例市总工会", alias="CITY_NAME")
