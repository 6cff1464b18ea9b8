"""Group-chat robots (DingTalk / WeCom style): the rules of their addresses and subscriptions.

A bot belongs to an organisation unit (and optionally one officer group of it) and subscribes
to notice kinds — template names that have a group-chat variant (`<name>.v<version>.webhook.j2`).
Who gets a notice is decided set-based in `commands.deliveries.create_for_bots`: the bots of the
nearest unit on the member's path that has an enabled bot subscribed to the kind.

The signing secret and the URL (it carries the robot's access token) are stored encrypted with
the vault (fields "webhook_secret", "webhook_url"), decrypted only by the dispatcher for the
call; the API shows the URL masked (`url_masked`)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from notify.domain.templates import TEMPLATE_DIR, TemplateRegistry

# Plain http is accepted for these hosts only (the local HTTP sink, a test double on the machine).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_URL_LENGTH = 2000


def check_url(url: str) -> str:
    """The robot's URL if acceptable: absolute https, or http to a loopback host; no user info.
    Raises ValueError with a Chinese message that does not repeat the URL (it holds a token)."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"地址过长（最多 {MAX_URL_LENGTH} 个字符）")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError("不是合法的网址") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise ValueError("须为完整的 https 地址，如 https://oapi.dingtalk.com/robot/send?access_token=…")
    if scheme == "http" and host.lower() not in LOOPBACK_HOSTS:
        raise ValueError("须使用 https；仅本机地址（127.0.0.1、localhost、::1）可用 http")
    if parts.username is not None or parts.password is not None:
        raise ValueError("地址中不得包含用户名或密码")
    if any(c.isspace() for c in url):
        raise ValueError("地址中不得包含空白字符")
    return url


def mask_url(url: str) -> str:
    """The URL with every query value hidden (DingTalk's access_token, WeCom's key), keeping the
    last four characters of long values so staff can tell two bots apart:
    https://oapi.dingtalk.com/robot/send?access_token=****9f3a"""
    parts = urlsplit(url)
    query = [(k, "****" + v[-4:] if len(v) >= 16 else "****")
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="*"), ""))


def webhook_kinds(registry: TemplateRegistry, directory: Path = TEMPLATE_DIR) -> list[str]:
    """Notice kinds a bot may subscribe to: registered templates whose current version has a
    group-chat variant (a bot delivery is rendered with the version current when it is created)."""
    return [s.name for s in registry.list() if (directory / f"{s.name}.v{s.version}.webhook.j2").exists()]


def url_columns(vault, url: str) -> dict:
    """The stored form of a (checked) robot URL: encrypted, and masked for display."""
    return {"url_enc": vault.encrypt("webhook_url", url), "url_masked": mask_url(url)}


def secret_column(vault, secret: str | None) -> bytes | None:
    """The stored form of a signing secret (None: not signed)."""
    return vault.encrypt("webhook_secret", secret) if secret else None
