"""Unified reply (统一回复): the answer goes back through the channel it came from.

The lead department replies (`casework.loop.reply`); if the channel's registry entry
names a reviewer (the hotline centre, or the managing department of a forwarded channel)
the reply waits for that reviewer's approval, otherwise (interconnected platforms review
on their side) it is approved at once. The orders table's stream starts delivery on the
transition into `approved`; a failed try is retried with backoff through a queue, and
after the last try the reply is dead-lettered (and the order waits for the centre's
follow-up by phone: its evaluation window does not run out on a citizen who never got
the answer). Every step is recorded on the order and audited.
"""

from __future__ import annotations

import json
from datetime import datetime

from minyi.casework import shell
from minyi.casework.shell import Outcome
from minyi.channels import signatures as auth
from minyi.core import clock, settings
from minyi.core.observability import logger
from minyi.dal import channel_config, queues, webhooks
from minyi.dal import orders as store
from minyi.models import lifecycle
from minyi.models.events import StreamRecord
from minyi.models.lifecycle import AuditAction, Command, Party
from minyi.models.order import ReplyStatus, WorkOrder


def retry_delays() -> tuple[int, ...]:
    """Seconds before the 2nd, 3rd, ... try (SQS allows at most 900)."""
    return settings.current().reply_retry_delays


def max_attempts() -> int:
    return len(retry_delays()) + 1


def _save(before: WorkOrder, after: WorkOrder, command: Command, audit: AuditAction, actor: str, at: datetime,
          detail: dict, keep_timer: bool = True) -> None:
    """The reply's step: the order keeps its status (and its timer unless told otherwise)."""
    lifecycle.check(before.status, command, frozenset({Party.SYSTEM}))
    shell.commit(before, command, Outcome(after, detail, keep_timer=keep_timer, audit=audit), actor, at)


def approved_now(record: StreamRecord) -> bool:
    """The reply's first try is due: the record is the transition of an order's reply into
    `approved` (the reply function also reads every other change of an order, for status
    delivery; approved -> retrying -> delivered are not new approvals)."""
    approved = ReplyStatus.APPROVED.value
    return (record.event_name == "MODIFY" and record.new_value("reply_status") == approved
            and record.old_value("reply_status") != approved)


def delivery_body(order: WorkOrder) -> bytes:
    reply = order.reply
    return json.dumps({
        "order_id": order.order_id,
        "channel": order.channel,
        "external_id": order.external_id,
        "department": order.department or reply.author,  # a merged request names no department
        "reply": reply.text,
        "result": reply.result.value,
        "replied_by": reply.author,
        "approved_by": reply.approved_by,
        "replied_at": clock.iso(reply.written_at),
    }, ensure_ascii=False).encode("utf-8")


def deliver(order_id: str, attempt: int, now: datetime) -> str:
    """One try at delivering an approved reply. Returns what happened: delivered,
    retry_scheduled, dead_lettered or skipped (nothing to deliver any more, or this try
    was made already: a redelivered stream record or queue message sends nothing twice)."""
    order = store.get_order(order_id)
    if order is None or order.reply is None or order.reply.status not in (ReplyStatus.APPROVED,
                                                                          ReplyStatus.RETRYING):
        return "skipped"
    if order.reply.attempts >= attempt:
        return "skipped"
    config = channel_config.config_for(order.channel)
    body = delivery_body(order)
    error = None
    if config is None or not config.reply_url or not config.secret:
        error = "the channel has no reply endpoint or secret configured"
    else:
        headers = {**auth.signed_headers(config.secret, body, now), "Content-Type": "application/json",
                   "X-Minyi-Delivery": f"{order.order_id}-reply-{clock.epoch(order.reply.written_at)}"}
        error = webhooks.post(config.reply_url, body, headers)
    reply = order.reply
    if error is None:
        done = reply.model_copy(update={"status": ReplyStatus.DELIVERED, "attempts": attempt, "delivered_at": now,
                                        "last_error": None})
        _save(order, order.model_copy(update={"reply": done}), Command.DELIVER_REPLY, AuditAction.REPLY_DELIVERED,
              "reply", now,
              {"attempt": attempt})
        return "delivered"
    logger.warning("reply delivery failed", extra={"order_id": order_id, "attempt": attempt, "error": error})
    if attempt >= max_attempts():
        dead = reply.model_copy(update={"status": ReplyStatus.DEAD_LETTERED, "attempts": attempt,
                                        "last_error": error})
        queues.dead_letter_reply(order_id, attempt, error)
        _save(order, order.model_copy(update={"reply": dead}), Command.DELIVER_REPLY,
              AuditAction.REPLY_DEAD_LETTERED, "reply", now,
              {"attempt": attempt, "error": error}, keep_timer=False)
        return "dead_lettered"
    # the retry is queued before the order records it, so a crash in between costs a
    # duplicate try, never a lost one
    queues.schedule_reply_retry(order_id, attempt + 1, retry_delays()[attempt - 1])
    retrying = reply.model_copy(update={"status": ReplyStatus.RETRYING, "attempts": attempt, "last_error": error})
    _save(order, order.model_copy(update={"reply": retrying}), Command.DELIVER_REPLY,
          AuditAction.REPLY_RETRY_SCHEDULED, "reply", now,
          {"attempt": attempt, "error": error})
    return "retry_scheduled"
