"""Quotaboard's rules engine: pure functions from a plan and its inputs to explained payouts.

No I/O, no database, no web. The whole public API::

    from commissions.engine import parse_plan, calculate, result_to_json_dict

    plan = parse_plan(document, custom_fields=["region"])   # PlanValidationError if invalid
    result = calculate(plan, "2026-Q1", people, quotas, deals, campaigns)
    result_to_json_dict(result)                              # the `commissions calc --json` document

Inputs are the frozen dataclasses ``Person``, ``Deal``, ``Quota``, ``Campaign``,
``DrawBalance``, ``ExchangeRate`` and ``Period`` (``parse_period("2026-Q1")``). Errors derive from
``EngineError``: ``PlanValidationError`` (with ``issues``), ``ConditionError``,
``InputError`` (and ``PeriodError``, ``NoExchangeRate``).
"""

from commissions.engine.calculate import calculate
from commissions.engine.conditions import Condition
from commissions.engine.conditions import compile_text as compile_condition
from commissions.engine.errors import (
    ConditionError,
    EngineError,
    InputError,
    NoExchangeRate,
    PeriodError,
    PlanIssue,
    PlanValidationError,
)
from commissions.engine.inputs import (
    COUNT_METRICS,
    LEAD_METRICS,
    Campaign,
    Deal,
    DrawBalance,
    ExchangeRate,
    LeadEvent,
    Period,
    Person,
    Quota,
    parse_period,
    prorate,
)
from commissions.engine.money import minor_digits
from commissions.engine.plan import Plan, load_plan_document, parse_plan
from commissions.engine.rates import AppliedRate, Converted, RateBook
from commissions.engine.result import (
    ComponentResult,
    Line,
    Payee,
    Result,
    iter_result_json,
    paused_gc,
    result_to_json,
    result_to_json_dict,
)

#: The engine's version, part of every statement's fingerprint (``commissions.statements.proof``).
#: Bump it with any change that gives the same inputs another line, amount or text.
ENGINE_VERSION = "2026.12.2"

__all__ = [
    "COUNT_METRICS",
    "ENGINE_VERSION",
    "LEAD_METRICS",
    "AppliedRate",
    "Campaign",
    "ComponentResult",
    "Condition",
    "ConditionError",
    "Converted",
    "Deal",
    "DrawBalance",
    "EngineError",
    "ExchangeRate",
    "InputError",
    "LeadEvent",
    "Line",
    "NoExchangeRate",
    "Payee",
    "Period",
    "PeriodError",
    "Person",
    "Plan",
    "PlanIssue",
    "PlanValidationError",
    "Quota",
    "RateBook",
    "Result",
    "calculate",
    "compile_condition",
    "iter_result_json",
    "load_plan_document",
    "minor_digits",
    "parse_period",
    "parse_plan",
    "paused_gc",
    "prorate",
    "result_to_json",
    "result_to_json_dict",
]
