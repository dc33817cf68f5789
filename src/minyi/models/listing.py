"""What the orders table's indexes give back: orders as lists show them (no personal
data), and pages of them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from minyi.models.lifecycle import OrderStatus


class OrderListing(BaseModel):
    """One order in a list: what the index projects, never the citizen's name, phone or words."""

    order_id: str
    status: OrderStatus
    title: str
    received_at: datetime
    department: str | None = None
    co_departments: list[str] = []
    due_at: datetime | None = None
    overdue_at: datetime | None = None
    urgent: bool = False
    matter_code: str | None = None
    match_score: float | None = None
    channel: str | None = None


class DepartmentEntry(BaseModel):
    """An entry of the by_department index: the order itself (the department leads it) or
    a co-handler item standing for it (`order` is then the order's current state, None
    when the order is gone)."""

    department: str
    co_handler_item: bool
    order: OrderListing | None


class Page[T](BaseModel):
    items: list[T]
    next_cursor: str | None = None


class PeriodEntry(BaseModel):
    """An order of a period as the `by_month` index projects it, for reports."""

    order_id: str
    received_at: datetime
    status: OrderStatus
    channel: str
    department: str | None = None
    overdue_at: datetime | None = None
    overdue_departments: list[str] = []
