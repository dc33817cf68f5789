"""Open311 GeoReport v2 (the international standard for civic service requests),
served under /open311/v2/ in JSON or XML, by the suffix of the document name.

Services are the duty list's matters; a posted request is stored through the same
intake path as every channel's (channel `open311`); its `status` and `status_notes` are
the lifecycle table's (`closed` once the order is closed), with the reply's result and
text once it has been delivered; `expected_datetime` is the order's deadline and
`updated_datetime` its last change.
Errors are [{"code", "description"}] with the HTTP codes the spec gives (400, 403, 404).
Only requests that came in through Open311 are listed, and their text is masked:
GET is public in the standard, and the hotline does not publish other channels' requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree

from pydantic import ValidationError

from minyi.channels.registry import channel
from minyi.core import clock
from minyi.core.ids import well_formed
from minyi.core.jsonbody import media_type
from minyi.core.privacy import mask_text
from minyi.dal import channel_config
from minyi.dal import orders as order_store
from minyi.dal.periods import orders_received_between
from minyi.intake import accept as intake
from minyi.models.channel_request import ChannelRequest
from minyi.models.duty import DutyList, Matter
from minyi.models.lifecycle import STATUSES
from minyi.models.order import Citizen, WorkOrder
from minyi.models.public import RESULT_LABELS, public_reply
from minyi.routing.cache import CachedDutyList

CHANNEL = "open311"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
MAX_IDS = 100  # service_request_ids per GET: the spec lets a server limit them; one BatchGetItem
ANONYMOUS = "匿名市民"


class Open311Error(Exception):
    def __init__(self, status: int, description: str, fmt: str = "json") -> None:
        super().__init__(description)
        self.status, self.description, self.fmt = status, description, fmt

    def answer(self) -> tuple[int, str, str]:
        return self.status, render([{"code": self.status, "description": self.description}], "errors", "error",
                                   self.fmt), FORMATS[self.fmt]


def _split(document: str, expected: str | None = None) -> tuple[str, str]:
    """"services.json" -> ("services", "json"); unknown formats are a 400 in JSON."""
    name, dot, fmt = document.rpartition(".")
    if not dot or fmt not in FORMATS:
        raise Open311Error(400, "the document must end in .json or .xml")
    if expected is not None and name != expected:
        raise Open311Error(404, f"no such document: {document}", fmt)
    return name, fmt


def render(items: list[dict[str, Any]], root: str, element: str, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False)
    top = ElementTree.Element(root)
    for item in items:
        node = ElementTree.SubElement(top, element)
        for key, value in item.items():
            child = ElementTree.SubElement(node, key)
            if value is not None:
                child.text = str(value).lower() if isinstance(value, bool) else str(value)
    return '<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(top, encoding="unicode")


def _duty_list(published: CachedDutyList) -> DutyList:
    """The duty list in force, cached per warm container like dispatch's: status polls by
    citizens' apps must not each read all the matters."""
    current = published.get()
    if current is None:
        raise Open311Error(404, "no services are published yet")
    return current


def _service(matter: Matter) -> dict[str, Any]:
    return {"service_code": matter.code, "service_name": matter.path[2],
            "description": f"{'/'.join(matter.path)}（{matter.handling_type}，主办：{matter.lead}，"
                           f"{matter.time_limit_days}个工作日内办结）",
            "metadata": False, "type": "realtime", "keywords": ",".join(matter.keywords),
            "group": matter.path[0]}


def services(fmt: str, published: CachedDutyList) -> tuple[int, str, str]:
    items = [_service(m) for m in sorted(_duty_list(published).matters, key=lambda m: m.code)]
    return 200, render(items, "services", "service", fmt), FORMATS[fmt]


def service_definition(document: str, published: CachedDutyList) -> tuple[int, str, str]:
    code, fmt = _split(document)
    matter = _duty_list(published).by_code(code)
    if matter is None:
        raise Open311Error(404, f"no service {code}", fmt)
    body = {"service_code": matter.code, "attributes": []}
    if fmt == "json":
        return 200, json.dumps(body, ensure_ascii=False), FORMATS[fmt]
    return 200, render([{"service_code": matter.code}], "service_definition", "service", fmt), FORMATS[fmt]


def collection(method: str, document: str, query: Mapping[str, str], body: bytes,
               headers: Mapping[str, str], now: datetime, published: CachedDutyList) -> tuple[int, str, str]:
    name, fmt = _split(document)
    if name == "services" and method == "GET":
        return services(fmt, published)
    if name == "requests" and method == "GET":
        return list_requests(query, fmt, now, published)
    if name == "requests" and method == "POST":
        return post_request(body, headers, fmt, now, published)
    if name in ("services", "requests"):
        raise Open311Error(400, f"{method} is not supported on {document}", fmt)
    raise Open311Error(404, f"no such document: {document}", fmt)


# ------------------------------------------------------------------ POST requests

def _form(body: bytes, headers: Mapping[str, str], fmt: str) -> dict[str, str]:
    if media_type(headers) != "application/x-www-form-urlencoded":
        raise Open311Error(400, "POST requests as application/x-www-form-urlencoded", fmt)
    if len(body) > intake.MAX_BODY_BYTES:
        raise Open311Error(413, "request body too large", fmt)
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body),
                          max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise Open311Error(400, "the form body is not valid UTF-8 form encoding", fmt) from None
    repeated = [key for key, values in parsed.items() if len(values) > 1]
    if repeated:
        raise Open311Error(400, f"parameters given more than once: {', '.join(sorted(repeated))}", fmt)
    return {key: values[0].strip() for key, values in parsed.items()}


def _coordinate(value: str, low: float, high: float, name: str, fmt: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, f"{name} is not a number", fmt) from None
    if not low <= number <= high:
        raise Open311Error(400, f"{name} is out of range", fmt)
    return number


def post_request(body: bytes, headers: Mapping[str, str], fmt: str, now: datetime,
                 published: CachedDutyList) -> tuple[int, str, str]:
    form = _form(body, headers, fmt)
    config = channel_config.config_for(CHANNEL)
    api_key = form.get("api_key", "")
    if not api_key or config is None or api_key not in config.api_keys:
        raise Open311Error(403, "api_key is missing or not valid", fmt)
    matter = _duty_list(published).by_code(form.get("service_code", ""))
    if matter is None:
        raise Open311Error(400, "service_code is missing or not a published service", fmt)
    address = form.get("address_string") or None
    location = None
    if form.get("lat") or form.get("long"):
        if not (form.get("lat") and form.get("long")):
            raise Open311Error(400, "lat and long go together", fmt)
        location = (_coordinate(form["lat"], -90, 90, "lat", fmt), _coordinate(form["long"], -180, 180, "long", fmt))
    if address is None and location is None and not form.get("address_id"):
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id", fmt)
    if address is None:
        address = f"经纬度 {location[0]:.6f},{location[1]:.6f}" if location else f"地址编号 {form['address_id']}"
    name = " ".join(part for part in (form.get("last_name"), form.get("first_name")) if part) or ANONYMOUS
    identity = "\x1f".join([hashlib.sha256(api_key.encode()).hexdigest()[:12], matter.code,
                            form.get("description", ""), address, form.get("phone", ""), form.get("email", ""),
                            clock.to_shanghai(now).strftime("%Y-%m-%d")])
    try:
        request = ChannelRequest(
            external_id="o311-" + hashlib.sha256(identity.encode()).hexdigest()[:24],
            title=(form.get("description") or matter.path[2])[:30],
            content=form.get("description", ""),
            citizen=Citizen(name=name[:50], phone=form.get("phone", "")),
            address=address[:200],
            requested_matter=matter.code,
        )
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_url=False))
        problems = problems.replace("citizen.phone", "phone").replace("content", "description")
        raise Open311Error(400, problems, fmt) from None
    order, created = intake.store_request(channel(CHANNEL), request, body.decode("utf-8"), now)
    notice = f"已受理，{matter.time_limit_days}个工作日内办结；查询编号 {order.order_id}"
    items = [{"service_request_id": order.order_id, "service_notice": notice, "account_id": None}]
    return (201 if created else 200), render(items, "service_requests", "request", fmt), FORMATS[fmt]


# ------------------------------------------------------------------ GET requests

def _location(order_raw: str | None) -> tuple[float | None, float | None]:
    if not order_raw:
        return None, None
    form = {k: v[0] for k, v in parse_qs(order_raw).items()}
    try:
        return float(form["lat"]), float(form["long"])
    except (KeyError, ValueError):
        return None, None


def _notes(order: WorkOrder) -> str:
    """The lifecycle table's note, then the reply once the citizen has it (the same
    reply, masked, as the public status shows)."""
    notes = STATUSES[order.status].open311_note.format(department=order.department or "")
    reply = public_reply(order)
    if reply is not None:
        notes += f"。办理结果：{RESULT_LABELS[reply.result]}。答复：{mask_text(reply.text)}"
    return notes


def _request_item(order: WorkOrder, raw: str | None, matters: DutyList | None) -> dict[str, Any]:
    lat, long = _location(raw)
    code = order.matter_code or order.requested_matter
    matter = matters.by_code(code) if matters and code else None
    return {
        "service_request_id": order.order_id,
        "status": STATUSES[order.status].open311,
        "status_notes": _notes(order),
        "service_name": matter.path[2] if matter else None,
        "service_code": code,
        "description": mask_text(order.content),
        "agency_responsible": order.department,
        "service_notice": None,
        "requested_datetime": clock.iso(order.received_at),
        "updated_datetime": clock.iso(order.updated_at or order.received_at),
        "expected_datetime": clock.iso(order.due_at) if order.due_at else None,
        "address": mask_text(order.address or ""),
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": long,
        "media_url": None,
    }


def _open311_orders(order_ids: list[str]) -> list[tuple[WorkOrder, str | None]]:
    """The Open311 requests among these ids, in their order, read in batches."""
    wanted = [order_id for order_id in order_ids if well_formed(order_id)]
    found = order_store.get_orders(wanted, with_raw=True)
    return [found[order_id] for order_id in dict.fromkeys(wanted)
            if order_id in found and found[order_id][0].channel == CHANNEL]


def request_by_id(document: str, published: CachedDutyList) -> tuple[int, str, str]:
    order_id, fmt = _split(document)
    found = _open311_orders([order_id])
    if not found:
        raise Open311Error(404, f"no service request {order_id}", fmt)
    items = [_request_item(*found[0], published.get())]
    return 200, render(items, "service_requests", "request", fmt), FORMATS[fmt]


def _date(value: str, name: str, fmt: str, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} is not a w3 date-time", fmt) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=clock.SHANGHAI)
    if not clock.plausible(moment, now):
        raise Open311Error(400, f"{name} is outside {clock.EARLIEST.year} to a day from now", fmt)
    return clock.to_shanghai(moment)


def list_requests(query: Mapping[str, str], fmt: str, now: datetime,
                  published: CachedDutyList) -> tuple[int, str, str]:
    known = {"service_request_id", "service_code", "start_date", "end_date", "status", "jurisdiction_id"}
    unknown = set(query) - known
    if unknown:
        raise Open311Error(400, f"unknown parameters: {', '.join(sorted(unknown))}", fmt)
    statuses = {s for s in query.get("status", "").split(",") if s}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status is open, closed or both", fmt)
    codes = {c for c in query.get("service_code", "").split(",") if c}
    if query.get("service_request_id"):
        ids = [i for i in query["service_request_id"].split(",") if i]
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"at most {MAX_IDS} service_request_id values per request", fmt)
        found = _open311_orders(ids)
    else:
        end = _date(query["end_date"], "end_date", fmt, now) if query.get("end_date") else now
        start = _date(query["start_date"], "start_date", fmt, now) if query.get("start_date") else \
            end - timedelta(days=DEFAULT_DAYS)
        if start > end:
            raise Open311Error(400, "start_date is after end_date", fmt)
        if end - start > timedelta(days=DEFAULT_DAYS):
            raise Open311Error(400, f"the date range is at most {DEFAULT_DAYS} days", fmt)
        ids = [item.order_id for item in orders_received_between(start, end + timedelta(seconds=1))
               if item.channel == CHANNEL]
        found = _open311_orders(ids[-MAX_RESULTS:])
    matters = published.get()
    items = [_request_item(order, raw, matters) for order, raw in found]
    items = [i for i in items if (not statuses or i["status"] in statuses)
             and (not codes or i["service_code"] in codes)]
    items.sort(key=lambda i: i["requested_datetime"], reverse=True)
    return 200, render(items, "service_requests", "request", fmt), FORMATS[fmt]
