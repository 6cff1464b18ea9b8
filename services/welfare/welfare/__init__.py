"""Welfare: assistance for workers in hardship (帮扶): members it may aid, assistance cases."""
