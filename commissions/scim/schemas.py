"""The SCIM JSON shapes (RFC 7643): schema URNs, the discovery documents, a person as a User and a team as a
Group, and the error body (RFC 7644 §3.12). Plain dicts: SCIM's attribute names and URN keys are not Python
names, and identity providers send more than any model would name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

MEDIA_TYPE = "application/scim+json"
BASE = "/scim/v2"
MAX_RESULTS = 200


@dataclass(frozen=True, slots=True)
class UserRow:
    """A person as SCIM shows them."""

    id: int
    email: str
    name: str
    active: bool
    employee_id: str | None
    manager_id: int | None
    manager_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A team as SCIM shows it, with its members (id, name)."""

    id: int
    name: str
    created_at: datetime
    members: list[tuple[int, str]]


def _stamp(moment: datetime) -> str:
    """An RFC 3339 time in UTC (stored times are UTC, naive on SQLite)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(kind: str, path: str, created: datetime) -> dict[str, Any]:
    stamp = _stamp(created)
    return {"resourceType": kind, "location": path, "created": stamp, "lastModified": stamp}


def split_name(name: str) -> tuple[str, str]:
    """givenName and familyName of a stored full name: the first word, and the rest."""
    first, _, rest = name.strip().partition(" ")
    return first, rest.strip()


def user(row: UserRow, base_url: str) -> dict[str, Any]:
    """A person as a SCIM User (core schema and the enterprise extension)."""
    given, family = split_name(row.name)
    name: dict[str, Any] = {"formatted": row.name, "givenName": given}
    if family:
        name["familyName"] = family
    enterprise: dict[str, Any] = {}
    if row.employee_id:
        enterprise["employeeNumber"] = row.employee_id
    if row.manager_id is not None:
        enterprise["manager"] = {
            "value": str(row.manager_id),
            "$ref": f"{base_url}{BASE}/Users/{row.manager_id}",
            "displayName": row.manager_name,
        }
    return {
        "schemas": [USER, ENTERPRISE],
        "id": str(row.id),
        "userName": row.email,
        "name": name,
        "displayName": row.name,
        "active": row.active,
        "emails": [{"value": row.email, "type": "work", "primary": True}],
        ENTERPRISE: enterprise,
        "meta": _meta("User", f"{base_url}{BASE}/Users/{row.id}", row.created_at),
    }


def group(row: GroupRow, base_url: str, *, members: bool = True) -> dict[str, Any]:
    """A team as a SCIM Group; its members are the people whose team it is."""
    out: dict[str, Any] = {"schemas": [GROUP], "id": str(row.id), "displayName": row.name}
    if members:
        out["members"] = [
            {"value": str(pid), "display": name, "$ref": f"{base_url}{BASE}/Users/{pid}", "type": "User"}
            for pid, name in row.members
        ]
    out["meta"] = _meta("Group", f"{base_url}{BASE}/Groups/{row.id}", row.created_at)
    return out


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": [LIST],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def error(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


def service_provider_config(base_url: str) -> dict[str, Any]:
    return {
        "schemas": [SERVICE_PROVIDER],
        "documentationUri": f"{base_url}/static/docs/integrations.md#scim",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "An admin's API token (Quotaboard's API tokens page) in Authorization: Bearer",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}{BASE}/ServiceProviderConfig"},
    }


def resource_types(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A person (userName: their email)",
            "schema": USER,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}{BASE}/ResourceTypes/User"},
        },
        {
            "schemas": [RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A team (displayName: its name); members are the people in it",
            "schema": GROUP,
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}{BASE}/ResourceTypes/Group"},
        },
    ]


def _attribute(name: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "type": kind,
        "multiValued": False,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    }
    out.update(extra)
    return out


def _complex(name: str, parts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return _attribute(name, "complex", subAttributes=parts, **extra)


def schemas(base_url: str) -> list[dict[str, Any]]:
    """The attributes Quotaboard reads and keeps (RFC 7643 §7), minimal."""
    value = _attribute("value")
    documents = [
        (
            USER,
            "User",
            [
                _attribute("userName", required=True, uniqueness="server"),
                _complex("name", [_attribute("formatted"), _attribute("givenName"), _attribute("familyName")]),
                _attribute("displayName"),
                _attribute("active", "boolean"),
                _complex(
                    "emails",
                    [value, _attribute("type"), _attribute("primary", "boolean")],
                    multiValued=True,
                ),
            ],
        ),
        (
            GROUP,
            "Group",
            [
                _attribute("displayName", required=True, uniqueness="server"),
                _complex("members", [value, _attribute("display", mutability="readOnly")], multiValued=True),
            ],
        ),
        (
            ENTERPRISE,
            "EnterpriseUser",
            [
                _attribute("employeeNumber"),
                _complex("manager", [value, _attribute("displayName", mutability="readOnly")]),
            ],
        ),
    ]
    return [
        {
            "schemas": [SCHEMA],
            "id": urn,
            "name": name,
            "attributes": attributes,
            "meta": {"resourceType": "Schema", "location": f"{base_url}{BASE}/Schemas/{urn}"},
        }
        for urn, name, attributes in documents
    ]


class ScimError(Exception):
    """A request SCIM refuses: its HTTP status, SCIM ``scimType`` and a detail naming what is wrong."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type
