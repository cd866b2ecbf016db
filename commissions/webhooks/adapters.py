"""CRM payloads read as deals: HubSpot deal webhooks and Salesforce outbound messages / Flow callouts.

Pure functions: a delivery's body and its integration's mapping in, a ``Mapped`` out (the deal
JSON of ``POST /api/v1/deals``, a lost deal to cancel, or "not a closed deal"). A payload that
cannot be read raises ``MappingError`` naming the field. docs/integrations-crm.md has the
mappings' defaults and the set-up on each side.

Payload shapes, from the vendors' documentation:
- HubSpot workflow "Send a webhook" (https://knowledge.hubspot.com/workflows/how-do-i-use-webhooks-with-hubspot-workflows):
  ``{"objectId": 1, "properties": {"dealname": {"value": "..."}, "closedate": {"value": "<epoch ms>"}, ...}}``;
  CRM v3 objects (https://developers.hubspot.com/docs/api/crm/deals):
  ``{"id": "1", "properties": {"dealname": "...", "closedate": "2026-02-03T00:00:00Z", ...}}``.
- Salesforce outbound messages (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_wsdl.htm):
  SOAP ``Envelope/Body/notifications/Notification/sObject`` with ``sf:Id``, ``sf:Amount``..., answered by
  ``notificationsResponse/Ack`` true; Flow HTTP callouts / platform events post the record as JSON
  (https://help.salesforce.com/s/articleView?id=sf.flow_ref_elements_action_callout_http.htm).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

from commissions.core.errors import InputProblem
from commissions.core.money import MoneyError, typed_number

FORMATS = ("standard", "hubspot", "salesforce")

HUBSPOT_DEFAULTS: dict[str, Any] = {
    "owner_email": "owner_email",  # the deal property holding the owner's email
    "currency": "deal_currency_code",
    "default_currency": "USD",
    "won_stages": ["closedwon"],
    "lost_stages": ["closedlost"],
    "type": "dealtype",
    "types": {"newbusiness": "new", "existingbusiness": "expansion", "renewal": "renewal"},
    "product": "",
    "term_months": "",
    "account": "",
    "custom_fields": {},  # HubSpot property -> declared custom field
}
SALESFORCE_DEFAULTS: dict[str, Any] = {
    "owner_email": "Owner.Email",  # a dotted path; an outbound message sends a formula field, e.g. Owner_Email__c
    "currency": "CurrencyIsoCode",
    "default_currency": "USD",
    "won_stages": ["Closed Won"],
    "lost_stages": ["Closed Lost"],
    "type": "Type",
    "types": {
        "New Customer": "new",
        "New Business": "new",
        "Existing Customer - Upgrade": "expansion",
        "Existing Business": "expansion",
        "Renewal": "renewal",
        "Existing Customer - Replacement": "renewal",
    },
    "product": "",
    "term_months": "",
    "account": "Account.Name",
    "custom_fields": {},  # Salesforce field (dotted path) -> declared custom field
}
DEFAULTS = {"hubspot": HUBSPOT_DEFAULTS, "salesforce": SALESFORCE_DEFAULTS}

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OM_NS = "http://soap.sforce.com/2005/09/outbound"
SF_NS = "urn:sobject.enterprise.soap.sforce.com"
SOAP_ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OM_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)


class MappingError(InputProblem):
    """A CRM payload that cannot be read as a deal; ``field`` names the payload's field."""


@dataclass(frozen=True, slots=True)
class Mapped:
    """What a delivery asks: ``deal`` to record (``lost`` True: to cancel if it was won), or ``ignored`` why not."""

    deal: dict[str, Any] = field(default_factory=dict)
    lost: bool = False
    ignored: str = ""


def mapping_for(fmt: str, stored: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The integration's mapping over the format's defaults (``custom_fields`` and ``types`` merged)."""
    given = json.loads(stored) if isinstance(stored, str) else dict(stored or {})
    if not isinstance(given, dict):
        raise MappingError("mapping", "a mapping is a JSON object")
    base = DEFAULTS.get(fmt, {})
    unknown = sorted(set(given) - set(base))
    if unknown:
        raise MappingError("mapping", f"unknown mapping key {unknown[0]!r}; known: {', '.join(sorted(base))}")
    merged = {**base, **given}
    for key in ("types",):
        merged[key] = {**base[key], **given.get(key, {})}
    return merged


# --- reading values ---------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict) and "value" in value:  # HubSpot workflow payloads wrap each property
        return _text(value["value"])
    return str(value).strip()


def _get(record: Mapping[str, Any], path: str) -> str:
    """A dotted path (``Owner.Email``) in a record; empty when absent."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return ""
        value = value.get(part)
    return _text(value)


def _amount(text: str, name: str) -> str:
    try:
        value = Decimal(typed_number(text))
    except (InvalidOperation, MoneyError):
        value = None
    if value is None or not value.is_finite() or value < 0:
        raise MappingError(name, f"{text!r} is not an amount" if text else "missing: the deal amount")
    return str(value)


def _date(text: str, name: str) -> str:
    """ISO date or date-time, or epoch milliseconds (HubSpot), as an ISO date (UTC)."""
    if not text:
        raise MappingError(name, "missing: the close date")
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC).date().isoformat()
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (moment.astimezone(UTC) if moment.tzinfo else moment).date().isoformat()
    except (ValueError, OverflowError) as exc:
        raise MappingError(name, f"{text!r} is not a date (ISO 8601 or epoch milliseconds)") from exc


def _deal(
    prefix: str, record_id: str, get: Any, mapping: Mapping[str, Any], *, names: Mapping[str, str], won: bool | None
) -> Mapped:
    """The common part: stage, owner, amount, close date, currency, type and custom fields through the mapping."""
    if not record_id:
        raise MappingError(names["id"], "missing: the deal's id")
    stage = get(names["stage"])
    if won is None:
        won = stage in mapping["won_stages"]
    lost = not won and stage in mapping["lost_stages"]
    if not won and not lost:
        return Mapped(ignored=f"not a closed deal (stage {stage!r})")
    owner_field = mapping["owner_email"]
    owner = get(owner_field)
    if "@" not in owner:
        raise MappingError(
            owner_field, f"{owner!r} is not the owner's email" if owner else "missing: the owner's email"
        )
    deal: dict[str, Any] = {
        "external_id": f"{prefix}:{record_id}",
        "name": get(names["name"])[:200],
        "owner": owner,
        "amount": _amount(get(names["amount"]), names["amount"]),
        "currency": (get(mapping["currency"]) if mapping["currency"] else "") or mapping["default_currency"],
        "closed_at": _date(get(names["closed_at"]), names["closed_at"]),
    }
    if mapping["account"] and (account := get(mapping["account"])):
        deal["account"] = account[:200]
    if mapping["type"] and (kind := get(mapping["type"])):
        if kind not in mapping["types"]:
            raise MappingError(mapping["type"], f"{kind!r} is not a mapped deal type ({', '.join(mapping['types'])})")
        deal["type"] = mapping["types"][kind]
    if mapping["product"] and (product := get(mapping["product"])):
        deal["product"] = product[:200]
    if mapping["term_months"] and (term := get(mapping["term_months"])):
        try:
            deal["term_months"] = int(Decimal(term))
        except (InvalidOperation, ValueError) as exc:
            raise MappingError(mapping["term_months"], f"{term!r} is not a number of months") from exc
    custom = {name: get(source) for source, name in mapping["custom_fields"].items()}
    if custom := {k: v for k, v in custom.items() if v != ""}:
        deal["custom_fields"] = custom
    return Mapped(deal=deal, lost=lost)


# --- HubSpot ----------------------------------------------------------------------------------------------------


def hubspot_deal(payload: Any, mapping: Mapping[str, Any]) -> Mapped:
    """A HubSpot workflow webhook (``objectId`` and ``{"value": ...}`` properties) or a CRM v3 deal object."""
    if not isinstance(payload, dict) or not isinstance(payload.get("properties"), dict):
        raise MappingError("properties", "a HubSpot deal payload has an object of properties")
    props = payload["properties"]
    record_id = _text(payload.get("objectId") or payload.get("id") or props.get("hs_object_id"))
    names = {"id": "objectId", "stage": "dealstage", "name": "dealname", "amount": "amount", "closed_at": "closedate"}
    return _deal("hubspot", record_id, lambda key: _get(props, key), mapping, names=names, won=None)


# --- Salesforce -------------------------------------------------------------------------------------------------


def _sobject_dict(element: ElementTree.Element) -> dict[str, Any]:
    """An ``sObject`` as nested dicts by local name (``sf:Owner/sf:Email`` -> ``{"Owner": {"Email": ...}}``)."""
    out: dict[str, Any] = {}
    for child in element:
        local = child.tag.rsplit("}", 1)[-1]
        out[local] = _sobject_dict(child) if len(child) else (child.text or "").strip()
    return out


def salesforce_records(body: bytes) -> tuple[list[dict[str, Any]], bool]:
    """The records of a delivery and whether it is a SOAP outbound message (answered by an Ack)."""
    text = body.lstrip()
    if text.startswith(b"<"):
        if b"<!DOCTYPE" in text.upper() or b"<!ENTITY" in text.upper():
            raise MappingError("body", "a Salesforce outbound message has no DOCTYPE or ENTITY declarations")
        try:
            root = ElementTree.fromstring(text)
        except ElementTree.ParseError as exc:
            raise MappingError("body", f"not well-formed XML: {exc}") from exc
        notifications = root.findall(f".//{{{OM_NS}}}Notification")
        if not notifications:
            raise MappingError("notifications", "no Notification in the outbound message")
        records = []
        for note in notifications:
            sobject = note.find(f"{{{OM_NS}}}sObject")
            if sobject is None:
                raise MappingError("sObject", "a Notification without its sObject")
            records.append(_sobject_dict(sobject))
        return records, True
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise MappingError("body", f"neither a SOAP outbound message nor JSON: {exc}") from exc
    if isinstance(payload, dict) and isinstance(payload.get("records"), list):
        payload = payload["records"]
    records = payload if isinstance(payload, list) else [payload]
    if not records or not all(isinstance(r, dict) for r in records):
        raise MappingError("body", "a Salesforce callout posts an Opportunity object (or a list of them)")
    return records, False


def salesforce_deal(record: Mapping[str, Any], mapping: Mapping[str, Any]) -> Mapped:
    """One Opportunity (outbound message sObject or Flow JSON): ``IsWon`` decides won when present."""
    won = True if _get(record, "IsWon").lower() == "true" else None  # else the stage decides: lost or still open
    names = {"id": "Id", "stage": "StageName", "name": "Name", "amount": "Amount", "closed_at": "CloseDate"}
    return _deal("sfdc", _get(record, "Id"), lambda key: _get(record, key), mapping, names=names, won=won)


def adapt(fmt: str, body: bytes, stored_mapping: str) -> tuple[list[Mapped], bool]:
    """A delivery of an integration in ``fmt`` as its deals, and whether to answer with a SOAP Ack."""
    mapping = mapping_for(fmt, stored_mapping)
    if fmt == "hubspot":
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise MappingError("body", f"not JSON: {exc}") from exc
        items = payload if isinstance(payload, list) else [payload]
        return [hubspot_deal(item, mapping) for item in items], False
    if fmt == "salesforce":
        records, soap = salesforce_records(body)
        return [salesforce_deal(record, mapping) for record in records], soap
    raise MappingError("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
