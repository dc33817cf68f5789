"""Settings from environment variables, one model per function so a missing
variable fails at cold start with a clear message, not mid-request."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field


class OrdersSettings(BaseModel):
    orders_table: str = Field(min_length=1)


class RouteSettings(OrdersSettings):
    duty_list_table: str = Field(min_length=1)
    duty_list_cache_seconds: float = Field(default=60, ge=0)


class ReportSettings(BaseModel):
    reports_table: str = Field(min_length=1)
    reports_bucket: str = Field(min_length=1)
    # presigned download links live at most 15 minutes
    report_url_seconds: int = Field(default=900, ge=60, le=900)


class ReportBuildSettings(ReportSettings, OrdersSettings):
    pass


def _from_env[T: BaseModel](model: type[T]) -> T:
    values = {name: os.environ[name.upper()] for name in model.model_fields if name.upper() in os.environ}
    return model.model_validate(values)



@cache
def route_settings() -> RouteSettings:
    return _from_env(RouteSettings)


@cache
def report_settings() -> ReportSettings:
    return _from_env(ReportSettings)


@cache
def report_build_settings() -> ReportBuildSettings:
    return _from_env(ReportBuildSettings)


class StaffDirectorySettings(BaseModel):
    """Where staff accounts live (the stack's StaffUserPoolId / StaffUserPoolClientId outputs)."""

    staff_user_pool_id: str = Field(min_length=1)
    staff_user_pool_client_id: str = Field(min_length=1)


def staff_directory_settings() -> StaffDirectorySettings:
    return _from_env(StaffDirectorySettings)
