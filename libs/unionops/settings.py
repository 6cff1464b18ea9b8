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

    outbox_retention_days: int = Field(7, alias="OUTBOX_RETENTION_DAYS", ge=1)
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
