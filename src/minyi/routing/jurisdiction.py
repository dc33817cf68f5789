"""属地: who handles a matter where it happened. The one place this rule is written.

A matter the duty list marks local (its lead is the placeholder 属地乡镇) is led by the
government of the township named in the request; any other matter keeps its lead and
takes the named townships' governments as co-handlers. "属地乡镇" in a co-handler list
means that township once known and names nobody while none is; it is never a department.
"""

from __future__ import annotations

from minyi.models.duty import LOCAL_LEAD, DutyList, Matter
from minyi.routing.places import GANXIAN_TOWNSHIPS, township_government


def assign(matter: Matter, townships: tuple[str, ...] | list[str],
           lead: str | None = None) -> tuple[str | None, tuple[str, ...]]:
    """(lead, co-handlers) of a matter for a request naming these townships, first named
    first. `lead` overrides the rule (an operator's choice). The lead is None for a local
    matter when no township is named: nobody can be sent it without a person deciding."""
    governments = [township_government(t) for t in townships]
    if lead is None:
        lead = (governments[0] if governments else None) if matter.local else matter.lead
    co = [governments[0] if c == LOCAL_LEAD else c for c in matter.co if c != LOCAL_LEAD or governments]
    # a district department's matter takes every township named as a co-handler; a township's
    # own matter stays with the township that leads it (others named see nothing of it)
    named = [] if matter.local else governments
    return lead, tuple(dict.fromkeys(c for c in [*co, *named] if c != lead))


def departments(duty_list: DutyList) -> set[str]:
    """Every department and township government a dispatch may name under this list."""
    named = {m.lead for m in duty_list.matters} | {c for m in duty_list.matters for c in m.co}
    return (named - {LOCAL_LEAD}) | {township_government(t) for t in GANXIAN_TOWNSHIPS}


def listed_co_handlers(lead: str | None, co_departments: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The co-handlers that see the order in their lists: never the lead, never the placeholder."""
    return tuple(d for d in dict.fromkeys(co_departments) if d and d not in (lead, LOCAL_LEAD))
