"""Who may see an order and in what part they act on it (工作人员权限). What each part may
do is the lifecycle table's `who`; this module says which parts a caller plays."""

from __future__ import annotations

from minyi.channels.registry import centre, channel
from minyi.core.errors import NotFound
from minyi.models.identity import Role, StaffIdentity
from minyi.models.lifecycle import Party
from minyi.models.order import WorkOrder


def reviewer_of(order: WorkOrder) -> str | None:
    """Who reviews this order's replies (办结审核): the channel's registry entry says (the
    centre, or a forwarded channel's managing department); None: the platform reviews."""
    return channel(order.channel).reply_reviewer


def _reviewing_department(order: WorkOrder) -> str | None:
    """The department that reviews this order's replies, if a department does: the centre's
    review is its staff's (the `centre` role), never a department account's that happens to
    carry the centre's name."""
    reviewer = reviewer_of(order)
    return reviewer if reviewer != centre() else None


def can_see(identity: StaffIdentity, order: WorkOrder) -> bool:
    if identity.sees_everything:
        return True
    if Role.DEPARTMENT in identity.roles and identity.department:
        # a department that reviews a channel's replies sees that channel's orders
        return identity.department in (order.department, *order.co_departments, _reviewing_department(order))
    return False


def visible(identity: StaffIdentity, order: WorkOrder | None, order_id: str) -> WorkOrder:
    """The order if this person may see it; otherwise the same 404 as for an order that
    does not exist, so other departments cannot probe for orders."""
    if order is None or not can_see(identity, order):
        raise NotFound(f"no order {order_id}")
    return order


def parties(identity: StaffIdentity, order: WorkOrder) -> frozenset[Party]:
    """The parts this caller plays in this order: the centre, a leader, the lead
    department or a co-handler."""
    found = set()
    if Role.CENTRE in identity.roles:
        found.add(Party.CENTRE)
    if Role.LEADER in identity.roles:
        found.add(Party.LEADER)
        if order.leader_case is not None and order.leader_case.leader == identity.username:
            found.add(Party.CASE_LEADER)  # 领导包案: the leader the case names
    if Role.DEPARTMENT in identity.roles and identity.department:
        if identity.department == order.department:
            found.add(Party.LEAD)
        elif identity.department in order.co_departments:
            found.add(Party.CO_HANDLER)
    reviewer = reviewer_of(order)
    if (reviewer is not None and reviewer == centre() and Role.CENTRE in identity.roles) or (
            Role.DEPARTMENT in identity.roles and identity.department
            and identity.department == _reviewing_department(order)):
        found.add(Party.REVIEWER)
    return frozenset(found)
