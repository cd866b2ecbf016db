"""All tables of the commissions domain; importing this package registers them on the metadata.

See docs/domain-model.md for the tables and why they are shaped this way.
"""

from commissions.models.accounting import AccountingSettings, ContractTerm
from commissions.models.approvals import DealApproval
from commissions.models.base import metadata
from commissions.models.deals import Campaign, CustomField, Deal, DealRevision, DealSplit
from commissions.models.disputes import Dispute, DisputeMessage
from commissions.models.email import EmailMessage
from commissions.models.holds import CommissionHold, InvoicePayment
from commissions.models.ledger import (
    Adjustment,
    CalculationRun,
    LedgerTotal,
    PayeeSummary,
    PayoutLine,
    StatementResult,
    StatementState,
)
from commissions.models.marketing import Lead, LeadEvent, Pulse, PulseResponse, PulseTally
from commissions.models.outbound import Delivery, DeliveryAttempt, OutboxEvent, Subscription
from commissions.models.people import Person, Team
from commissions.models.periods import Period, Quota
from commissions.models.plans import Plan, PlanAssignment, PlanVersion
from commissions.models.rates import ExchangeRate
from commissions.models.security import (
    ApiToken,
    AuditEvent,
    PasswordReset,
    SignInLimit,
    WebhookDelivery,
    WebhookIntegration,
)
from commissions.models.sso import SiteSetting, SsoProvider

__all__ = [
    "AccountingSettings",
    "Adjustment",
    "ApiToken",
    "AuditEvent",
    "CalculationRun",
    "Campaign",
    "CommissionHold",
    "ContractTerm",
    "CustomField",
    "Deal",
    "DealApproval",
    "DealRevision",
    "DealSplit",
    "Delivery",
    "DeliveryAttempt",
    "Dispute",
    "DisputeMessage",
    "EmailMessage",
    "ExchangeRate",
    "InvoicePayment",
    "Lead",
    "LeadEvent",
    "LedgerTotal",
    "OutboxEvent",
    "PasswordReset",
    "PayeeSummary",
    "PayoutLine",
    "Period",
    "Person",
    "Plan",
    "PlanAssignment",
    "PlanVersion",
    "Pulse",
    "PulseResponse",
    "PulseTally",
    "Quota",
    "SignInLimit",
    "SiteSetting",
    "SsoProvider",
    "StatementResult",
    "StatementState",
    "Subscription",
    "Team",
    "WebhookDelivery",
    "WebhookIntegration",
    "metadata",
]
