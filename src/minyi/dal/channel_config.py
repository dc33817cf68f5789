"""Per-channel credentials and endpoints from SSM Parameter Store.

One SecureString parameter per channel, `<CHANNEL_CONFIG_PATH>/<channel id>`, holding
JSON {"secret": ..., "reply_url": ..., "status_url": ..., "api_keys": [...]}: where the
channel's replies go, where its orders' status notices go (none without it), and for
Open311 the API keys. Endpoints are per deployment, so they live here, not in the
registry. Read with one GetParametersByPath call through powertools parameters and
cached for a few minutes, so a rotated secret is picked up without a deploy."""

from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError

from minyi.core import settings
from minyi.core.observability import logger


class ChannelConfig(BaseModel):
    secret: str | None = None
    reply_url: str | None = None
    status_url: str | None = None
    api_keys: tuple[str, ...] = ()


def _path() -> str:
    return settings.require("channel_config_path").rstrip("/")


def all_configs() -> dict[str, ChannelConfig]:
    from aws_lambda_powertools.utilities import parameters

    raw = parameters.get_parameters(_path(), decrypt=True, recursive=False,
                                    max_age=settings.current().channel_config_cache_seconds)
    configs = {}
    for name, value in raw.items():
        try:
            configs[name.rsplit("/", 1)[-1]] = ChannelConfig.model_validate(json.loads(value))
        except (ValueError, ValidationError):
            logger.error("unreadable channel configuration", extra={"parameter": name})
    return configs


def config_for(channel_id: str) -> ChannelConfig | None:
    return all_configs().get(channel_id)


def parameter_name(channel_id: str) -> str:
    return f"{_path()}/{channel_id}"


def get_config(channel_id: str) -> ChannelConfig | None:
    """Operators' read of one channel's configuration, uncached (the CLI changes part of it)."""
    import boto3

    ssm = boto3.client("ssm")
    try:
        value = ssm.get_parameter(Name=parameter_name(channel_id), WithDecryption=True)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return ChannelConfig.model_validate(json.loads(value))


def put_config(channel_id: str, config: ChannelConfig) -> None:
    """Operators' write (CLI and local stack seeding); functions only read."""
    import boto3

    boto3.client("ssm").put_parameter(Name=parameter_name(channel_id), Type="SecureString", Overwrite=True,
                                      Value=json.dumps(config.model_dump(mode="json"), ensure_ascii=False))
