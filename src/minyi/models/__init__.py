"""Pydantic models at the boundaries: payloads, work orders, duty lists, reports, settings."""
