"""Ports, folders and connection strings of the local stack, overridable from the environment."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import portpicker

REPO = Path(__file__).resolve().parents[3]
SERVICES = ("membership", "welfare", "competitions", "notify")
DATABASES = (*SERVICES, "traces")


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def free_port() -> int:
    """A port nothing listens on, never the same twice in one process (portpicker remembers what
    it handed out): asking the kernel for port 0 twice may give the same port back once the first
    socket is closed, and a stack whose two processes were given one port starts the second on a
    port the first holds."""
    return portpicker.pick_unused_port()


@dataclass
class StackConfig:
    state_dir: Path
    pg_port: int
    kafka_port: int
    tracesink_port: int
    smtp_port: int
    smtp_http_port: int
    service_ports: dict[str, int] = field(default_factory=dict)
    httpsink_port: int = 8026  # SMS provider + robot webhook sink

    @classmethod
    def from_env(cls) -> "StackConfig":
        from dotenv import load_dotenv

        load_dotenv(REPO / ".env", override=False)  # the same file the services read
        return cls(
            state_dir=Path(os.environ.get("UNIONOPS_STATE_DIR", REPO / ".state")).resolve(),
            pg_port=_env_int("PG_PORT", 55432),
            kafka_port=_env_int("KAFKA_PORT", 19092),
            tracesink_port=_env_int("TRACESINK_PORT", 4318),
            smtp_port=_env_int("SMTP_PORT", 2525),
            smtp_http_port=_env_int("SMTPSINK_HTTP_PORT", 8025),
            httpsink_port=_env_int("HTTPSINK_PORT", 8026),
            service_ports={
                "membership": _env_int("MEMBERSHIP_HTTP_PORT", 8001),
                "welfare": _env_int("WELFARE_HTTP_PORT", 8002),
                "competitions": _env_int("COMPETITIONS_HTTP_PORT", 8003),
                "notify": _env_int("NOTIFY_HTTP_PORT", 8004),
            },
        )

    @classmethod
    def ephemeral(cls, state_dir: Path) -> "StackConfig":
        """Free ports and a private folder: for tests, beside a running `make run`."""
        return cls(state_dir=state_dir, pg_port=free_port(), kafka_port=free_port(), tracesink_port=free_port(),
                   smtp_port=free_port(), smtp_http_port=free_port(),
                   service_ports={s: free_port() for s in SERVICES}, httpsink_port=free_port())

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{database}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.service_ports[service]}"

    @property
    def tracesink_url(self) -> str:
        return f"http://127.0.0.1:{self.tracesink_port}"

    @property
    def smtpsink_url(self) -> str:
        return f"http://127.0.0.1:{self.smtp_http_port}"

    @property
    def httpsink_url(self) -> str:
        return f"http://127.0.0.1:{self.httpsink_port}"

    def pythonpath(self, service: str | None = None) -> str:
        parts = [REPO / "libs", REPO / "deploy" / "local"]
        if service:
            parts.append(REPO / "services" / service)
        return os.pathsep.join(str(p) for p in parts)

    def service_env(self, service: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment a service process gets: connections only; the rest from `.env`."""
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": self.pythonpath(service),
            "PYTHONUNBUFFERED": "1",
            # The local stack runs on the development secrets published in this repository.
            "UNIONOPS_DEVELOPMENT_MODE": "true",
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.tracesink_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            f"{service.upper()}_DATABASE_URL": self.dsn(service),
            f"{service.upper()}_HTTP_PORT": str(self.service_ports[service]),
        })
        if service == "notify":
            # The stack's own provider sink, whatever the developer's shell says (a real
            # provider's URL there must not receive test messages); `extra` may still override.
            env["SMS_PROVIDER_URL"] = self.httpsink_url
            env["SMS_API_KEY"] = "dev-sms-key"
        env.update(extra or {})
        return env


def main(argv: list[str]) -> int:
    """`python -m devstack.config url NAME`: the base URL of a service or sink of this stack
    (ports from the environment or `.env`), for shell commands: `curl $(make -s url NAME=membership)/…`."""
    cfg = StackConfig.from_env()
    names = {**{s: cfg.url(s) for s in cfg.service_ports}, "tracesink": cfg.tracesink_url,
             "smtpsink": cfg.smtpsink_url, "httpsink": cfg.httpsink_url}
    if argv[:1] == ["dsn"] and len(argv) == 2 and argv[1] in DATABASES:
        print(cfg.dsn(argv[1]))  # the local stack's PostgreSQL on PG_PORT (`make import`)
        return 0
    if len(argv) != 2 or argv[0] != "url" or argv[1] not in names:
        print(f"usage: python -m devstack.config url {{{','.join(names)}}} | dsn {{{','.join(DATABASES)}}}",
              file=sys.stderr)
        return 2
    print(names[argv[1]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
