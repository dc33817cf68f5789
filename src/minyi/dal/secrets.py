"""The key order ids are derived with, from Secrets Manager.

CloudFormation generates it at the first deploy (it is in no file and no template
literal); a warm container reads it once (powertools' cache). It must never rotate: a channel's retry of
a request must find the order its first try created."""

from __future__ import annotations

from minyi.core import settings


def order_id_key() -> bytes:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(settings.require("order_id_key_secret"), max_age=365 * 86400)
    key = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if len(key) < 16:
        raise RuntimeError("the order id key is shorter than 16 bytes")
    return key
