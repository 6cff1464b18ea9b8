"""Staff and machine authentication: bearer JWTs carrying a role and an organisation scope.

Claims: `sub` (who), `name`, `role` (see ROLES), `org` (the organisation unit id whose subtree
the caller may see and change). Locally HS256 with JWT_SECRET; in production JWKS (JWT_JWKS_URL).
401 = no or invalid credentials; 403 = valid credentials, not allowed for this action or unit."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Iterable

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from unionops.problems import Problem
from unionops.settings import CommonSettings

# role -> permissions. `write` covers creating and changing records within the subtree.
ROLES: dict[str, frozenset[str]] = {
    "federation_admin": frozenset({"read", "write", "admin"}),
    "staff": frozenset({"read", "write"}),
    "auditor": frozenset({"read"}),
    "service": frozenset({"read", "write"}),
    # A member reading what concerns them (their hardship file, their deliveries): `sub` is the
    # member id; never any other member's data, whatever `org` says.
    "member": frozenset({"self"}),
}

_bearer = HTTPBearer(auto_error=False)

_ORG_NAMESPACE = uuid.UUID("6f1c2a4e-58a7-4c0b-9d0e-3b1f2c5e7a90")


def root_org_id(region_code: str) -> uuid.UUID:
    """The city root unit's id: derived from its region code so tokens can be minted for it
    before anything else exists."""
    return uuid.uuid5(_ORG_NAMESPACE, f"city:{region_code}")


@dataclass(frozen=True)
class Principal:
    subject: str
    name: str
    role: str
    org_id: uuid.UUID

    def require(self, permission: str) -> None:
        if permission not in ROLES.get(self.role, ()):
            raise Problem(403, f"角色 {self.role} 无 {permission} 权限", type_="/problems/forbidden-role")

    def is_member(self, member_id: uuid.UUID | str) -> bool:
        """True when the caller is this member, signed in as themselves."""
        return self.role == "member" and self.subject == str(member_id)

    def covers(self, org_path: Iterable[uuid.UUID | str]) -> bool:
        """True when the unit whose path (root first) is given lies in the caller's subtree.
        A member covers no subtree: staff scope is for staff."""
        if self.role == "member":
            return False
        return str(self.org_id) in {str(p) for p in org_path}

    def require_scope(self, org_path: Iterable[uuid.UUID | str]) -> None:
        if not self.covers(org_path):
            raise Problem(403, "该组织不在您的管辖范围内", type_="/problems/out-of-scope")


def issue_token(settings: CommonSettings, *, subject: str, role: str, org_id: uuid.UUID | str, name: str = "",
                ttl_seconds: int = 12 * 3600) -> str:
    """Mint an HS256 token (local development, tests and the dev token command)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {sorted(ROLES)}")
    now = int(time.time())
    claims = {
        "sub": subject, "name": name or subject, "role": role, "org": str(org_id),
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now, "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


class Authenticator:
    def __init__(self, settings: CommonSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    def max_lifetime(self, role: str) -> int:
        """The longest a token of `role` may live (exp − iat), in seconds."""
        if role == "service":
            return self.settings.jwt_service_max_lifetime_seconds
        return self.settings.jwt_staff_max_lifetime_seconds

    def decode(self, token: str) -> Principal:
        unauthorized = {"WWW-Authenticate": 'Bearer error="invalid_token"'}

        def refuse(detail: str) -> Problem:
            return Problem(401, detail, type_="/problems/unauthenticated", headers=unauthorized)

        # exp and iat are required; the skew allowance covers clocks a little apart. PyJWT also
        # refuses an iat in the future (beyond the allowance).
        options = {"require": ["exp", "iat"]}
        skew = self.settings.jwt_clock_skew_seconds
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(token, key, algorithms=["RS256", "ES256"], audience=self.settings.jwt_audience,
                                    issuer=self.settings.jwt_issuer, leeway=skew, options=options)
            else:
                claims = jwt.decode(token, self.settings.jwt_secret, algorithms=["HS256"], leeway=skew,
                                    audience=self.settings.jwt_audience, issuer=self.settings.jwt_issuer,
                                    options=options)
        except jwt.ExpiredSignatureError:
            raise refuse("令牌已过期")
        except jwt.MissingRequiredClaimError as exc:
            raise refuse(f"令牌缺少 {exc.claim} 声明")
        except jwt.ImmatureSignatureError:
            raise refuse("令牌签发时间晚于当前时间")
        except jwt.PyJWTError:
            raise refuse("令牌无效")
        try:
            role, org = claims["role"], uuid.UUID(claims["org"])
        except (KeyError, ValueError, TypeError, AttributeError):
            raise refuse("令牌缺少角色或组织范围")
        if role not in ROLES:
            raise Problem(403, "未知角色", type_="/problems/forbidden-role")
        issued, expires = claims["iat"], claims["exp"]
        if not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in (issued, expires)):
            raise refuse("令牌时间声明无效")
        if expires - issued > self.max_lifetime(role):
            raise refuse("令牌有效期超过该角色允许的最长期限")
        return Principal(subject=str(claims.get("sub", "")), name=str(claims.get("name", "")), role=role, org_id=org)


async def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """FastAPI dependency: the authenticated caller, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "缺少 Bearer 令牌", type_="/problems/unauthenticated", headers={"WWW-Authenticate": "Bearer"})
    return request.app.state.runtime.authenticator.decode(credentials.credentials)


def requires(permission: str):
    """FastAPI dependency: the caller, who must hold `permission`."""

    async def dep(principal: Principal = Depends(current_principal)) -> Principal:
        principal.require(permission)
        return principal

    return dep
