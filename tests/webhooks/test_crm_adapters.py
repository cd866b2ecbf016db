"""HubSpot and Salesforce payloads (sample shapes from the vendors' docs, in samples/) become the right deals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.custom_fields.service import declare_field
from commissions.models import Deal, WebhookDelivery
from commissions.webhooks import api
from commissions.webhooks.adapters import (
    SOAP_ACK,
    MappingError,
    adapt,
    hubspot_deal,
    mapping_for,
    salesforce_deal,
    salesforce_records,
)
from commissions.webhooks.service import create_integration
from commissions.webhooks.signing import sign
from tests.conftest import read

SAMPLES = Path(__file__).parent / "samples"
NOW = 1_795_000_000
SF_MAPPING = {"owner_email": "Owner_Email__c", "custom_fields": {"Region__c": "region"}}
HS_MAPPING = {"custom_fields": {"sales_region": "region"}}


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


# --- the pure mappings ------------------------------------------------------------------------------------------


def test_hubspot_workflow_payload() -> None:
    mapped = hubspot_deal(json.loads(sample("hubspot_workflow.json")), mapping_for("hubspot", HS_MAPPING))
    assert mapped.deal == {
        "external_id": "hubspot:1234567890",
        "name": "Initech platform",
        "owner": "ana@example.com",
        "amount": "80000",
        "currency": "EUR",
        "closed_at": "2026-02-03",  # epoch milliseconds, UTC
        "type": "new",
        "custom_fields": {"region": "EMEA"},
    }
    assert not mapped.lost and not mapped.ignored


def test_hubspot_v3_object_and_stages() -> None:
    payload = json.loads(sample("hubspot_v3.json"))
    mapping = mapping_for("hubspot", {})
    mapped = hubspot_deal(payload, mapping)
    assert mapped.deal["external_id"] == "hubspot:9876543210" and mapped.deal["amount"] == "45000.50"
    assert mapped.deal["closed_at"] == "2026-02-03" and mapped.deal["currency"] == "USD"  # the default
    assert mapped.deal["type"] == "expansion"
    payload["properties"]["dealstage"] = "closedlost"
    assert hubspot_deal(payload, mapping).lost
    payload["properties"]["dealstage"] = "contractsent"
    assert hubspot_deal(payload, mapping).ignored.startswith("not a closed deal")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "lots"}, "amount"),
        ({"closedate": "someday"}, "closedate"),
        ({"owner_email": ""}, "owner_email"),
        ({"dealtype": "barter"}, "dealtype"),
    ],
)
def test_hubspot_mapping_errors_name_the_field(change: dict[str, str], field: str) -> None:
    payload = json.loads(sample("hubspot_v3.json"))
    payload["properties"].update(change)
    with pytest.raises(MappingError) as caught:
        hubspot_deal(payload, mapping_for("hubspot", {}))
    assert caught.value.field == field


def test_salesforce_outbound_message_and_flow_callout() -> None:
    records, soap = salesforce_records(sample("salesforce_outbound.xml"))
    assert soap and len(records) == 1
    mapped = salesforce_deal(records[0], mapping_for("salesforce", SF_MAPPING))
    assert mapped.deal == {
        "external_id": "sfdc:006xx000004TmiQAAS",
        "name": "Umbrella Corp expansion",
        "owner": "ana@example.com",
        "amount": "120000.00",
        "currency": "USD",
        "closed_at": "2026-03-12",
        "type": "expansion",
        "custom_fields": {"region": "EMEA"},
    }
    (flow,), soap = salesforce_records(sample("salesforce_flow.json"))
    assert not soap
    deal = salesforce_deal(flow, mapping_for("salesforce", {})).deal
    assert deal["external_id"] == "sfdc:006xx000004TmiRAAS" and deal["owner"] == "ana@example.com"
    assert deal["account"] == "Hooli" and deal["amount"] == "30000" and deal["type"] == "new"
    flow |= {"IsWon": False, "StageName": "Closed Lost"}
    assert salesforce_deal(flow, mapping_for("salesforce", {})).lost
    flow["StageName"] = "Negotiation/Review"
    assert salesforce_deal(flow, mapping_for("salesforce", {})).ignored


def test_bad_mappings_and_bodies_are_refused() -> None:
    with pytest.raises(MappingError, match="unknown mapping key 'owner'"):
        mapping_for("hubspot", {"owner": "x"})
    with pytest.raises(MappingError, match="DOCTYPE"):
        salesforce_records(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(MappingError) as caught:
        adapt("salesforce", b"<soapenv:Envelope", "{}")
    assert caught.value.field == "body"


# --- end to end: signed deliveries ------------------------------------------------------------------------------


@pytest.fixture
def hooks(engine: Engine, settings, make_person, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    monkeypatch.setattr(api, "clock", lambda: NOW)
    with transaction(engine) as s:
        declare_field(s, name="region", type="text", by=None)
        hubspot = create_integration(
            s, name="hubspot", secret_key=settings.secret_key, by=None, fmt="hubspot", mapping=HS_MAPPING
        )[1]
        sfdc = create_integration(
            s, name="sfdc", secret_key=settings.secret_key, by=None, fmt="salesforce", mapping=SF_MAPPING
        )[1]
    return {"hubspot": hubspot, "sfdc": sfdc}


def deliver(
    client, hooks: dict[str, str], name: str, raw: bytes, webhook_id: str, content_type: str = "application/json"
):  # type: ignore[no-untyped-def]
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(NOW),
        "webhook-signature": sign(hooks[name], webhook_id, NOW, raw),
        "content-type": content_type,
    }
    return client.post(f"/api/v1/webhooks/crm/{name}/deals", content=raw, headers=headers)


def stored(engine: Engine, external_id: str) -> Deal | None:
    return read(engine, lambda s: s.exec(select(Deal).where(Deal.external_id == external_id)).first())


def test_hubspot_deliveries_become_deals_and_a_lost_deal_cancels(client, hooks, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    r = deliver(client, hooks, "hubspot", sample("hubspot_workflow.json"), "msg_1")
    assert r.status_code == 201, r.text
    deal = stored(engine, "hubspot:1234567890")
    assert deal is not None and deal.status == "won" and str(deal.closed_at) == "2026-02-03"
    body = r.json()
    assert body["owner"] == "ana@example.com" and body["currency"] == "EUR" and body["amount"] == "80000.00"
    assert body["custom_fields"] == {"region": "EMEA"}
    lost = json.loads(sample("hubspot_workflow.json"))
    lost["properties"]["dealstage"]["value"] = "closedlost"
    lost["properties"]["closedate"]["value"] = "1772668800000"  # 2026-03-05
    r = deliver(client, hooks, "hubspot", json.dumps(lost).encode(), "msg_2")
    assert r.status_code == 200, r.text
    deal = stored(engine, "hubspot:1234567890")
    assert deal is not None and deal.status == "cancelled" and str(deal.cancelled_at) == "2026-03-05"
    assert str(deal.closed_at) == "2026-02-03"
    # an open deal: nothing recorded, and the delivery is still remembered (its replay refused)
    open_deal = json.loads(sample("hubspot_v3.json"))
    open_deal["properties"]["dealstage"] = "appointmentscheduled"
    r = deliver(client, hooks, "hubspot", json.dumps(open_deal).encode(), "msg_3")
    assert r.status_code == 202 and "not a closed deal" in r.json()["reasons"][0]
    assert stored(engine, "hubspot:9876543210") is None
    assert read(engine, lambda s: s.get(WebhookDelivery, (1, "msg_3"))) is not None
    # a lost deal never won here: nothing to cancel
    open_deal["properties"]["dealstage"] = "closedlost"
    r = deliver(client, hooks, "hubspot", json.dumps(open_deal).encode(), "msg_4")
    assert r.status_code == 202 and stored(engine, "hubspot:9876543210") is None


def test_salesforce_outbound_message_is_acked_and_recorded(client, hooks, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    r = deliver(client, hooks, "sfdc", sample("salesforce_outbound.xml"), "msg_1", "text/xml; charset=utf-8")
    assert r.status_code == 200, r.text
    assert r.text == SOAP_ACK and r.headers["content-type"].startswith("text/xml")
    deal = stored(engine, "sfdc:006xx000004TmiQAAS")
    assert deal is not None and deal.status == "won" and deal.type == "expansion"
    assert str(deal.closed_at) == "2026-03-12" and deal.currency == "USD"


def test_salesforce_flow_callout(client, hooks, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    flow = json.loads(sample("salesforce_flow.json"))
    flow.pop("Owner")
    flow["Owner_Email__c"] = "ana@example.com"  # this integration's mapping reads the owner from the formula field
    r = deliver(client, hooks, "sfdc", json.dumps(flow).encode(), "msg_1")
    assert r.status_code == 201, r.text
    assert r.json()["external_id"] == "sfdc:006xx000004TmiRAAS" and r.json()["account"] == "Hooli"


def test_mapping_errors_are_400_naming_the_field_and_write_nothing(client, hooks, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    bad = json.loads(sample("hubspot_workflow.json"))
    bad["properties"]["amount"]["value"] = "a lot"
    r = deliver(client, hooks, "hubspot", json.dumps(bad).encode(), "msg_1")
    assert r.status_code == 400 and "amount" in r.text
    unknown = json.loads(sample("hubspot_workflow.json"))
    unknown["properties"]["owner_email"]["value"] = "nobody@example.com"  # no such person: the deals service refuses
    r = deliver(client, hooks, "hubspot", json.dumps(unknown).encode(), "msg_2")
    assert r.status_code in (400, 404, 422) and "owner" in r.text
    assert read(engine, lambda s: s.exec(select(Deal)).all()) == []
    # an unsigned HubSpot payload is refused like any unsigned delivery
    r = client.post("/api/v1/webhooks/crm/hubspot/deals", content=sample("hubspot_v3.json"))
    assert r.status_code == 401


def test_an_integrations_format_and_mapping_are_checked(engine: Engine, settings) -> None:  # type: ignore[no-untyped-def]
    from commissions.core.errors import InputProblem

    with transaction(engine) as s, pytest.raises(InputProblem) as caught:
        create_integration(s, name="x", secret_key=settings.secret_key, by=None, fmt="pipedrive")
    assert caught.value.field == "format"
    with transaction(engine) as s, pytest.raises(MappingError) as mapping:
        create_integration(s, name="y", secret_key=settings.secret_key, by=None, fmt="hubspot", mapping='{"ownr": 1}')
    assert mapping.value.field == "mapping"


def test_a_multi_record_delivery_writes_all_or_nothing(client, hooks, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    good = json.loads(sample("salesforce_flow.json"))
    good.pop("Owner")
    good["Owner_Email__c"] = "ana@example.com"
    stranger = dict(good, Id="006xx000004TmiSAAS", Owner_Email__c="nobody@example.com")
    r = deliver(client, hooks, "sfdc", json.dumps({"records": [good, stranger]}).encode(), "msg_1")
    assert r.status_code >= 400 and "nobody@example.com" in r.text
    assert read(engine, lambda s: s.exec(select(Deal)).all()) == []
    second = dict(good, Id="006xx000004TmiTAAS", StageName="Prospecting", IsWon=False)
    r = deliver(client, hooks, "sfdc", json.dumps([good, second]).encode(), "msg_2")
    assert r.status_code == 200, r.text
    assert [d["external_id"] for d in r.json()["deals"]] == ["sfdc:006xx000004TmiRAAS"]
    assert r.json()["ignored"] == ["not a closed deal (stage 'Prospecting')"]


def test_the_admin_page_creates_a_hubspot_integration(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    from commissions.models import WebhookIntegration
    from tests.conftest import csrf_from, sign_in

    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    made = client.post(
        "/admin/webhooks/",
        data={
            "name": "hs",
            "format": "hubspot",
            "mapping": '{"custom_fields": {"sales_region": "region"}}',
            "_csrf_token": csrf_from(client),
        },
    )
    assert made.status_code == 200 and "whsec_" in made.text
    row = read(engine, lambda s: s.exec(select(WebhookIntegration).where(WebhookIntegration.name == "hs")).one())
    assert row.format == "hubspot" and json.loads(row.mapping) == {"custom_fields": {"sales_region": "region"}}
    bad = client.post(
        "/admin/webhooks/",
        data={"name": "hs2", "format": "hubspot", "mapping": '{"ownr": "x"}', "_csrf_token": csrf_from(client)},
    )
    assert bad.status_code == 400 and "unknown mapping key" in bad.text
