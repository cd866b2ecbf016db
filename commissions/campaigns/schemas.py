"""Request and response models of ``GET``/``PUT /api/v1/campaigns`` (cli.md campaigns.csv: code,name,owner,
channel,cost,start,end; plus the optional currency of the cost)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import cast

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from commissions.campaigns.service import CampaignInput
from commissions.core.money import from_minor
from commissions.models import Campaign

EXAMPLE = {
    "code": "WEB-SEO",
    "name": "Organic search 2026",
    "owner": "mia.marketer@example.com",
    "channel": "web",
    "cost": "12000.00",
    "currency": "USD",
    "start": "2026-01-01",
    "end": "2026-06-30",
}


class CampaignIn(BaseModel):
    """One campaign, keyed by ``code``; every field but ``code``, ``name`` and ``owner`` may be left out."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [cast(JsonDict, EXAMPLE)]})

    code: str = Field(max_length=64, description="the natural key: what deals' `source_campaign` names, e.g. WEB-SEO")
    name: str = Field(max_length=200)
    owner: str = Field(max_length=254, description="email of the marketer credited with the campaign's deals")
    channel: str = Field(default="", max_length=64)
    cost: str = Field(default="0", max_length=40, description='a non-negative decimal, e.g. "12000.00"')
    currency: str = Field(default="", max_length=3, description="of the cost; left out: the stored one, else USD")
    start: date | None = Field(default=None, description="first day, e.g. 2026-01-01 (informative)")
    end: date | None = Field(default=None, description="last day, not before `start`")

    @field_validator("cost", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        """A JSON number is read by its text (``1500.5`` → "1500.5"); booleans are not numbers."""
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return str(value)
        return value

    def as_input(self) -> CampaignInput:
        return CampaignInput(
            code=self.code,
            name=self.name,
            owner=self.owner,
            channel=self.channel,
            cost=self.cost,
            currency=self.currency,
            start=self.start.isoformat() if self.start else "",
            end=self.end.isoformat() if self.end else "",
        )


class CampaignOut(BaseModel):
    """A campaign as ``PUT`` takes it: a page's items sent back change nothing."""

    code: str = Field(examples=[EXAMPLE["code"]])
    name: str = Field(examples=[EXAMPLE["name"]])
    owner: str = Field(examples=[EXAMPLE["owner"]])
    channel: str = Field(examples=[EXAMPLE["channel"]])
    cost: str = Field(examples=[EXAMPLE["cost"]], description="a decimal string with the currency's minor digits")
    currency: str = Field(examples=[EXAMPLE["currency"]])
    start: date | None = Field(examples=[EXAMPLE["start"]])
    end: date | None = Field(examples=[EXAMPLE["end"]])

    @classmethod
    def of(cls, campaign: Campaign, owner_email: str) -> CampaignOut:
        return cls(
            code=campaign.code,
            name=campaign.name,
            owner=owner_email,
            channel=campaign.channel,
            cost=str(from_minor(campaign.cost_minor, campaign.currency)),
            currency=campaign.currency,
            start=campaign.starts_on,
            end=campaign.ends_on,
        )


class CampaignList(BaseModel):
    items: list[CampaignOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
