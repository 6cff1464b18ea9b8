"""The officers directory's rules of personal data: an officer's e-mail address and phone are
kept encrypted with the vault (fields "officer_email", "phone") beside a masked copy for display;
only the dispatcher decrypts the address, to send. Nothing looks officers up by address, so no
keyed hash is kept. (Whom a notice reaches: `notices.nearest_holders`.)"""
from __future__ import annotations

from unionops.pii import mask_email, mask_phone

EMAIL_FIELD = "officer_email"  # the vault's field (its AAD): an officer's address opens only as one


def email_columns(vault, email: str | None) -> dict:
    """The stored form of an officer's e-mail address (None clears it)."""
    if not email:
        return {"email_enc": None, "email_masked": None}
    return {"email_enc": vault.encrypt(EMAIL_FIELD, email), "email_masked": mask_email(email)}


def phone_columns(vault, phone: str | None) -> dict:
    """The stored form of an officer's phone (None clears it)."""
    if not phone:
        return {"phone_enc": None, "phone_masked": None}
    return {"phone_enc": vault.encrypt("phone", phone), "phone_masked": mask_phone(phone)}
