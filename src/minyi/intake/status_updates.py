"""Status delivery (状态推送): each public change of an order goes back to the channel it
came from, the way its reply does.

A public change is a new public stage of the lifecycle table (dispatched, signed, replied,
closed, ...) or a reopen (`reopen_count` grows); both are stored on the order item, so
the orders stream's before- and after-images tell one from any other change (a contact,
an opinion, a delivery attempt). The reply function reads the stream for both (a third
reader of the stream would be throttled) and posts the order as the after-image holds
it, a `StatusNotice` of that order version, to the channel's `status_url`, signed with
the channel's secret. A channel with no `status_url` gets no notices.

Nothing is written to the order: the notice names its version and is sent with
`X-Minyi-Delivery: <order id>-status-<version>`, so a channel drops a notice it has had
(a redelivered stream record, a retried message) and one older than the newest it has.
A failed try is retried with the reply's backoff through the reply retry queue, the
message carrying the notice, so a retry sends that version as it was without reading
the order; after the last try the notice goes to the reply dead-letter queue.
"""

from __future__ import annotations

from datetime import datetime

from minyi.channels import signatures as auth
from minyi.core.observability import logger
from minyi.dal import channel_config, queues, webhooks
from minyi.dal import orders as store
from minyi.intake import replies
from minyi.models.events import StreamRecord
from minyi.models.public import StatusNotice


def public_change(record: StreamRecord) -> bool:
    """Whether a stream record is a public change of an order: its stage or a reopen."""
    if record.event_name != "MODIFY" or record.new_value("item_type") != "order":
        return False
    if record.old_value("public_stage") != record.new_value("public_stage"):
        return True
    return int(record.new_value("reopen_count") or 0) > int(record.old_value("reopen_count") or 0)


def notice_of(record: StreamRecord) -> StatusNotice | None:
    """The notice of the order version the record's after-image holds."""
    order = store.order_from_image(record.dynamodb.new_image or {})
    return StatusNotice.of(order) if order is not None else None


def deliver(notice: StatusNotice, attempt: int, now: datetime) -> str:
    """One try at delivering a status notice. Returns what happened: delivered,
    retry_scheduled, dead_lettered, or skipped (the channel takes no status notices)."""
    config = channel_config.config_for(notice.channel)
    if config is None or not config.status_url:
        return "skipped"
    body = notice.model_dump_json().encode("utf-8")
    if not config.secret:
        error = "the channel has no secret configured to sign its status notices"
    else:
        headers = {**auth.signed_headers(config.secret, body, now), "Content-Type": "application/json",
                   "X-Minyi-Delivery": notice.delivery_id}
        error = webhooks.post(config.status_url, body, headers)
    if error is None:
        return "delivered"
    logger.warning("status delivery failed", extra={"order_id": notice.order_id, "version": notice.version,
                                                    "attempt": attempt, "error": error})
    if attempt >= replies.max_attempts():
        queues.dead_letter_status(notice, attempt, error)
        return "dead_lettered"
    queues.schedule_status_retry(notice, attempt + 1, replies.retry_delays()[attempt - 1])
    return "retry_scheduled"
