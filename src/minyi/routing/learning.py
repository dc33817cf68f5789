"""Learning from operators (纠错学习): a manual dispatch, or a re-dispatch to another
matter, teaches the matcher that this request's terms point a little more to the matter
it really was. Persisted per duty-list version and carried to the next."""

from __future__ import annotations

from minyi.core.observability import logger
from minyi.dal import duty_list as duty_store
from minyi.models.order import WorkOrder
from minyi.routing.matcher import Matcher

LEARNING_RATE = 1.0  # one correction adds this share of a term's own weight to the corrected matter


def learn(order: WorkOrder, matcher: Matcher) -> None:
    """Runs after the dispatch is committed: a failure here is logged, never the answer."""
    try:
        _learn(order, matcher)
    except Exception:  # the dispatch stands; only the lesson is lost
        logger.exception("learning from a dispatch failed", extra={"order_id": order.order_id})


def _learn(order: WorkOrder, matcher: Matcher) -> None:
    if not order.matter_code:
        return
    terms = matcher.terms(f"{order.title}\n{order.content}")
    if terms:
        duty_store.add_learned(matcher.duty_list.version, {
            term: {order.matter_code: round(LEARNING_RATE * matcher.index.weights.get(term, 1.0), 4)}
            for term in terms})
