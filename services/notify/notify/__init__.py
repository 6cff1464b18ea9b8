"""Notify: tells members what concerns them (通知) — templates, channels, delivery and its status."""
