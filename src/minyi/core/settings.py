"""Settings (配置) from environment variables: read once per process, validated, then used.

Each function's handler calls `load(...)` at import, naming the variables it cannot run
without, so a missing or malformed one fails the cold start with a message that names
it, never a request halfway through. Everything else reads the validated values through
`current()` or `require()`; nothing reads `os.environ` for a setting, and no table name
has a silent default.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator


class SettingsError(RuntimeError):
    """The environment lacks a variable this process needs, or holds a bad value."""


def _seconds_list(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


Name = Annotated[str, Field(min_length=1, max_length=2048)]
# SQS delays at most 900 s; the list's length is the number of retries
RetryDelays = Annotated[tuple[Annotated[int, Field(ge=0, le=900)], ...], BeforeValidator(_seconds_list),
                        Field(min_length=1, max_length=10)]


class Settings(BaseModel):
    """Every variable a function of this stack may read; each function requires its own."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    orders_table: Name | None = None
    duty_list_table: Name | None = None
    reports_table: Name | None = None
    kpi_table: Name | None = None  # 考核计数: the counters and each order's ledger of counted facts
    reports_bucket: Name | None = None
    event_bus_name: Name | None = None
    channel_config_path: Name | None = None
    reply_retry_queue_url: Name | None = None
    reply_dead_letter_queue_url: Name | None = None
    # the Secrets Manager secret holding the key order ids are derived with
    order_id_key_secret: Name | None = None
    staff_user_pool_id: Name | None = None
    staff_user_pool_client_id: Name | None = None
    attachments_bucket: Name | None = None

    channel_config_cache_seconds: int = Field(default=300, ge=0, le=3600)
    duty_list_cache_seconds: float = Field(default=60, ge=0, le=3600)
    # the county's calendar supplement (放假、调休) and departments' office hours, per warm container:
    # how long before they are read again
    calendar_cache_seconds: float = Field(default=60, ge=0, le=3600)
    # presigned download links live at most 15 minutes
    report_url_seconds: int = Field(default=900, ge=60, le=900)
    reply_retry_delays: RetryDelays = (10, 60, 300, 900)
    # below this confidence an order waits for an operator (待人工分拨)
    auto_dispatch_threshold: float = Field(default=0.35, ge=0, le=1)
    # 回访评价: the working days a citizen has to rate a reply; then it closes as unevaluated
    evaluation_window_days: int = Field(default=3, ge=1, le=30)
    # whether an unevaluated order counts as satisfied (off unless the county turns it on)
    unevaluated_counts_satisfied: bool = False
    # 重办: this reopen of the same order goes to the joint meeting instead
    reopens_to_joint_meeting: int = Field(default=3, ge=1, le=10)
    # a reopen's limit when neither the centre nor the order's dispatch says one
    default_reopen_days: int = Field(default=5, ge=1, le=60)
    # 附件: presigned upload and download links, and the largest file
    attachment_url_seconds: int = Field(default=900, ge=60, le=900)
    attachment_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    # 时限 (the clock; hotline-rules.md): 签收 in working hours (urgent: calendar minutes), 先行联系,
    # 协办意见 as a share of the completion limit, 办结审核; the warning at this share of each limit
    sign_limit_hours: float = Field(default=2, gt=0, le=72)
    urgent_sign_minutes: int = Field(default=30, ge=1, le=1440)
    contact_limit_days: int = Field(default=1, ge=1, le=15)
    urgent_contact_minutes: int = Field(default=60, ge=1, le=1440)
    opinion_limit_share: float = Field(default=0.5, gt=0, le=1)
    review_limit_days: int = Field(default=1, ge=1, le=15)
    deadline_warning_share: float = Field(default=0.8, gt=0, lt=1)
    # 督办 ladder: step:working days after the previous step (the first: after the limit)
    escalation_ladder: str = Field(
        default="remind:0,notice:1,supervise:5,propose_leader_case:5",
        pattern=r"^\s*(remind|notice|supervise|propose_leader_case)\s*:\s*\d{1,2}\s*"
                r"(,\s*(remind|notice|supervise|propose_leader_case)\s*:\s*\d{1,2}\s*){0,3}$")
    # 延期: extensions per order unless the centre grants more, and the most days a department may ask
    max_extensions: int = Field(default=1, ge=0, le=10)
    max_extension_days: int = Field(default=5, ge=1, le=60)
    # 考核: the score's weights and deductions as JSON (ScoreWeights, docs/kpi.md); empty: the defaults
    score_weights: str = Field(default="", max_length=2000)
    # 明细: the most orders a report's detail sheet lists (the rest: a daily report, or the order list)
    report_detail_rows: int = Field(default=5000, ge=0, le=100000)


    @field_validator("score_weights")
    @classmethod
    def _weights_are_json(cls, value: str) -> str:
        if value.strip():
            import json

            try:
                if not isinstance(json.loads(value), dict):
                    raise ValueError
            except ValueError:
                raise ValueError("SCORE_WEIGHTS is a JSON object of weights") from None
        return value

    @field_validator("escalation_ladder")
    @classmethod
    def _each_step_once(cls, value: str) -> str:
        steps = [part.split(":")[0].strip() for part in value.split(",") if part.strip()]
        if len(set(steps)) != len(steps):
            raise ValueError("each step of the escalation ladder appears once")
        return value


_current: Settings | None = None


def _from_env() -> Settings:
    values = {name: os.environ[name.upper()] for name in Settings.model_fields if name.upper() in os.environ}
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                             for e in error.errors(include_url=False))
        raise SettingsError(f"bad environment: {problems}") from None


def load(*required: str) -> Settings:
    """Validate the environment once, and that every `required` setting is there.
    A function's handler calls this at import (its cold start)."""
    global _current
    unknown = [name for name in required if name not in Settings.model_fields]
    if unknown:
        raise SettingsError(f"no such settings: {', '.join(unknown)}")
    settings = _from_env()
    missing = [name.upper() for name in required if getattr(settings, name) is None]
    if missing:
        raise SettingsError(f"missing environment variables: {', '.join(missing)}")
    _current = settings
    return settings


def current() -> Settings:
    """This process's validated settings (validated on first use where no handler did)."""
    return _current if _current is not None else load()


def require(name: str) -> Any:
    value = getattr(current(), name)
    if value is None:
        raise SettingsError(f"{name.upper()} is not set")
    return value


def reset() -> None:
    """Forget the validated settings (a test that changes the environment)."""
    global _current
    _current = None
