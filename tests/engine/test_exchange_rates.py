"""Exchange rates (plans.md 3): the rate book, and deals in another currency than the plan's."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commissions.engine import (
    Deal,
    ExchangeRate,
    InputError,
    NoExchangeRate,
    RateBook,
    result_to_json,
    result_to_json_dict,
)

from .helpers import D, deal, make_plan, people, quota, run, tiered

EUR_USD = ExchangeRate("EUR", "USD", D("1.0850"), date(2026, 1, 1))
CONVERTED = "(converted: 10,000.00 EUR at 1.0850 = 10,850.00 USD)"


def rate(source: str, target: str, value: str, day: str) -> ExchangeRate:
    return ExchangeRate(source, target, D(value), date.fromisoformat(day))


def eur(external_id: str, amount: object, **fields: object) -> Deal:
    return deal(external_id, amount, currency="EUR", **fields)


# --- the rate book ---------------------------------------------------------------------------


def test_convert_gives_the_plans_example_sentence() -> None:
    converted = RateBook([EUR_USD]).convert(D("10000"), "EUR", "USD", date(2026, 1, 15))
    assert converted.amount == D("10850.00")
    assert converted.explanation == "10,000.00 EUR at 1.0850 = 10,850.00 USD"
    assert (converted.original_amount, converted.original_currency, converted.currency) == (D(10000), "EUR", "USD")
    assert converted.rate.rate == D("1.0850") and str(converted.rate.rate) == "1.0850"  # as written
    assert converted.rate.effective_from == date(2026, 1, 1) and not converted.rate.inverted


def test_the_rate_is_the_latest_on_or_before_the_day() -> None:
    book = RateBook([rate("EUR", "USD", "1.10", "2026-02-01"), rate("EUR", "USD", "1.08", "2026-01-01")])
    assert book.lookup("EUR", "USD", date(2026, 1, 31)).rate == D("1.08")  # type: ignore[union-attr]
    assert book.lookup("EUR", "USD", date(2026, 2, 1)).rate == D("1.10")  # type: ignore[union-attr]
    assert book.lookup("EUR", "USD", date(2030, 1, 1)).rate == D("1.10")  # type: ignore[union-attr]
    assert book.lookup("EUR", "USD", date(2025, 12, 31)) is None
    assert book.lookup("GBP", "USD", date(2026, 3, 1)) is None


def test_an_inverse_rate_is_used_as_one_over_it() -> None:
    converted = RateBook([rate("USD", "EUR", "0.9217", "2026-01-01")]).convert(
        D("10000"), "EUR", "USD", date(2026, 3, 1)
    )
    assert converted.amount == D("10849.52")  # 10000 / 0.9217 = 10849.517...
    assert converted.rate.inverted and converted.rate.rate == D("0.9217")
    assert converted.explanation == "10,000.00 EUR at 1/0.9217 (USD→EUR) = 10,849.52 USD"


@pytest.mark.parametrize(
    ("direct_from", "inverse_from", "expected"),
    [
        ("2026-01-01", "2026-01-01", "direct"),  # a tie prefers the direct rate
        ("2026-01-01", "2026-02-01", "inverse"),  # the latest of both directions
        ("2026-02-01", "2026-01-01", "direct"),
    ],
)
def test_direct_and_inverse_rates_the_latest_wins_a_tie_is_direct(
    direct_from: str, inverse_from: str, expected: str
) -> None:
    book = RateBook([rate("EUR", "USD", "1.0850", direct_from), rate("USD", "EUR", "0.9217", inverse_from)])
    applied = book.lookup("EUR", "USD", date(2026, 3, 1))
    assert applied is not None
    assert ("inverse" if applied.inverted else "direct") == expected


def test_the_converted_amount_is_rounded_half_up_once_to_the_target_minor_unit() -> None:
    book = RateBook([EUR_USD, rate("EUR", "JPY", "161.235", "2026-01-01")])
    assert book.convert(D("1.00"), "EUR", "USD", date(2026, 1, 2)).amount == D("1.09")  # 1.085: up, not to even
    assert book.convert(D("0.10"), "EUR", "JPY", date(2026, 1, 2)).amount == D("16")  # 16.1235: JPY has 0 decimals
    assert book.convert(D("12345678.90"), "EUR", "USD", date(2026, 1, 2)).explanation == (
        "12,345,678.90 EUR at 1.0850 = 13,395,061.61 USD"
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([rate("eur", "USD", "1.1", "2026-01-01")], "'eur' is not a currency code"),
        ([rate("EUR", "US", "1.1", "2026-01-01")], "'US' is not a currency code"),
        ([rate("EUR", "USD", "0", "2026-01-01")], "rate 0 must be a number above 0"),
        ([rate("EUR", "USD", "-1.1", "2026-01-01")], "rate -1.1 must be a number above 0"),
        ([rate("EUR", "EUR", "1", "2026-01-01")], "two different currencies"),
        ([ExchangeRate("EUR", "USD", 1.08, date(2026, 1, 1))], "rate 1.08 must be a number above 0"),  # type: ignore[arg-type]
        ([ExchangeRate("EUR", "USD", D("1.08"), "2026-01-01")], "effective_from '2026-01-01' is not a date"),  # type: ignore[arg-type]
        (
            [rate("EUR", "USD", "1.08", "2026-01-01"), rate("EUR", "USD", "1.09", "2026-01-01")],
            "two exchange rates EUR→USD from 2026-01-01: 1.08 and 1.09",
        ),
    ],
)
def test_the_book_refuses_bad_rates(rows: list[ExchangeRate], message: str) -> None:
    with pytest.raises(InputError, match=message):
        RateBook(rows)


def test_the_same_rate_twice_is_kept_once() -> None:
    book = RateBook([EUR_USD, EUR_USD])
    assert len(book) == 1


def test_no_rate_names_the_pair_and_the_date() -> None:
    for book in (RateBook(), RateBook([EUR_USD])):
        with pytest.raises(NoExchangeRate, match="no exchange rate from EUR to USD on or before 2025-12-31") as caught:
            book.convert(D(1), "EUR", "USD", date(2025, 12, 31))
        assert (caught.value.source, caught.value.target, caught.value.day) == ("EUR", "USD", date(2025, 12, 31))


# --- calculate() with deals in another currency ----------------------------------------------


def test_conversion_makes_a_deal_cross_a_tier() -> None:
    plan = make_plan(tiered(mode="marginal"))
    deals = [deal("D-1", 95000, day="2026-01-05"), eur("D-2", 5000, day="2026-02-01")]
    (ana,) = run(plan, deals, rates=[EUR_USD]).payees
    assert ana.credited == D("100425.00")  # 95000 + 5000 × 1.0850
    commission = ana.component("Commission")
    assert [str(line.amount) for line in commission.lines] == ["9500.00", "563.75"]  # 500 + 425 × 15%
    assert commission.lines[1].text == (
        "D-2: 5000.00 at 10% (tier 1) + 425.00 at 15% (tier 2, 100%-150%) = 563.75 "
        "(converted: 5,000.00 EUR at 1.0850 = 5,425.00 USD)"
    )
    assert commission.lines[0].text == "D-1: 95000.00 at 10% (tier 1, up to 100% of quota) = 9500.00"
    basis = commission.lines[1].basis
    assert basis["original_amount"] == "5000" and basis["original_currency"] == "EUR"
    assert basis["rate"] == "1.0850" and basis["rate_inverted"] is False
    assert basis["rate_effective_from"] == "2026-01-01"
    assert basis["slices"][1] == {"tier": 2, "amount": "425.00", "rate": "0.15"}  # the kind's own fields stay
    assert "original_amount" not in commission.lines[0].basis


def test_each_deal_uses_the_rate_of_its_close_date() -> None:
    plan = make_plan({"name": "Flat", "kind": "per_deal", "rate": "10%"})
    rates = [rate("EUR", "USD", "1.08", "2026-01-01"), rate("EUR", "USD", "1.10", "2026-02-01")]
    deals = [eur("D-1", 1000, day="2026-01-31"), eur("D-2", 1000, day="2026-02-01")]
    (ana,) = run(plan, deals, rates=rates).payees
    assert ana.credited == D("2180.00")
    lines = ana.component("Flat").lines
    assert [str(line.amount) for line in lines] == ["108.00", "110.00"]
    assert lines[0].text.endswith("(converted: 1,000.00 EUR at 1.08 = 1,080.00 USD)")
    assert lines[1].text.endswith("(converted: 1,000.00 EUR at 1.10 = 1,100.00 USD)")


def test_an_inverse_rate_converts_a_deal() -> None:
    plan = make_plan({"name": "Flat", "kind": "per_deal", "rate": "10%"})
    (ana,) = run(plan, [eur("D-1", 10000)], rates=[rate("USD", "EUR", "0.9217", "2026-01-01")]).payees
    (line,) = ana.component("Flat").lines
    assert ana.credited == D("10849.52") and line.amount == D("1084.95")
    assert (
        line.text == "D-1: 10849.52 at 10% = 1084.95 (converted: 10,000.00 EUR at 1/0.9217 (USD→EUR) = 10,849.52 USD)"
    )
    assert line.basis["rate_inverted"] is True and line.basis["rate"] == "0.9217"


def test_a_deal_is_rounded_once_and_its_split_shares_split_the_converted_amount() -> None:
    # 333.33 × 1.085 = 361.66305 → 361.66. Converting each share would give 217.00 + 144.67 = 361.67.
    plan = make_plan({"name": "Flat", "kind": "per_deal", "rate": "100%"}, quota=None)
    staff = people("ana@x.com", "bo@x.com")
    split = eur("D-1", "333.33", splits=[("ana@x.com", 60), ("bo@x.com", 40)])
    result = run(plan, [split], [], staff, rates=[EUR_USD])
    ana, bo = result.payees
    assert ana.credited + bo.credited == D("361.66")
    assert (ana.credited, bo.credited) == (D("216.996"), D("144.664"))
    assert ana.component("Flat").lines[0].text == (
        "D-1: 217.00 of 361.66 (60% share) at 100% = 217.00 (converted: 333.33 EUR at 1.0850 = 361.66 USD)"
    )
    assert bo.component("Flat").lines[0].text.startswith("D-1: 144.66 of 361.66 (40% share)")


def test_half_up_rounding_of_the_converted_amount() -> None:
    plan = make_plan({"name": "Flat", "kind": "per_deal", "rate": "100%"}, quota=None)
    (ana,) = run(plan, [eur("D-1", "1.00")], [], rates=[EUR_USD]).payees
    assert ana.credited == D("1.09")  # 1.085 rounds half-up


def test_conditions_read_the_converted_amount_and_the_deals_own_currency() -> None:
    plan = make_plan(
        {"name": "Big", "kind": "per_deal", "pay": 100, "when": "amount >= 10000"},
        {"name": "Euro", "kind": "per_deal", "pay": 7, "when": 'currency == "EUR"'},
        credit={"when": "amount > 1000"},
    )
    deals = [eur("D-1", 9500), eur("D-2", 950), deal("D-3", 20000)]  # 10307.50 USD, 1030.75 USD
    (ana,) = run(plan, deals, rates=[EUR_USD]).payees
    assert [line.deal_id for line in ana.component("Big").lines] == ["D-1", "D-3"]
    assert [line.deal_id for line in ana.component("Euro").lines] == ["D-1", "D-2"]  # both counted: above 1000 USD
    assert ana.credited == D("31338.25")


def test_every_line_of_a_converted_deal_says_so_in_every_output() -> None:
    plan = make_plan(
        tiered(mode="retroactive"),
        {
            "name": "Size",
            "kind": "tiered",
            "on": "amount",
            "per": "deal",
            "tiers": [{"to": 1000, "rate": "1%"}, {"rate": "2%"}],
        },
        {"name": "SPIFF", "kind": "per_deal", "pay": 10, "rate": "1%"},
        {"name": "Curve", "kind": "curve", "points": [["0%", 0], ["100%", 100]]},
        {"name": "Override", "kind": "override", "rate": "1%"},
        {"name": "Marginal", **{k: v for k, v in tiered().items() if k != "name"}, "mode": "marginal"},
    )
    staff = people("mia@x.com", "ana@x.com<mia@x.com")
    deals = [
        eur("D-1", 10000, day="2026-01-02"),
        deal("D-2", 3000, "mia@x.com", day="2026-01-03", splits=[("mia@x.com", 50), ("ana@x.com", 50)]),
        eur("D-3", 10000, day="2026-01-04", owner="mia@x.com", splits=[("mia@x.com", 50), ("ana@x.com", 50)]),
    ]
    result = run(plan, deals, [quota("ana@x.com", 10000), quota("mia@x.com", 10000)], staff, rates=[EUR_USD])
    seen_kinds = set()
    for payee in result.payees:
        for component in payee.components:
            for line in component.lines:
                if line.deal_id in ("D-1", "D-3"):
                    seen_kinds.add(component.name)
                    assert line.text.endswith(CONVERTED), line.text
                    assert line.basis["original_currency"] == "EUR"
                elif line.deal_id == "D-2":
                    assert "converted" not in line.text and "original_amount" not in line.basis
    assert seen_kinds == {"Commission", "Size", "SPIFF", "Curve", "Override", "Marginal"}
    # the streamed document (line columns, without Line objects) says the same as the lines
    assert json.loads(result_to_json(result)) == result_to_json_dict(result)
    assert result_to_json(result).count(CONVERTED) == sum(
        line.text.count(CONVERTED) for payee in result.payees for c in payee.components for line in c.lines
    )


def test_a_deal_without_a_rate_is_an_input_error_naming_the_pair_and_the_date() -> None:
    plan = make_plan(tiered())
    with pytest.raises(NoExchangeRate, match=r"^deal D-1: no exchange rate from EUR to USD on or before 2026-01-15$"):
        run(plan, [eur("D-1", 100)])  # no rates at all
    with pytest.raises(InputError, match="deal D-1: no exchange rate from EUR to USD on or before 2026-01-15"):
        run(plan, [eur("D-1", 100)], rates=[rate("EUR", "USD", "1.1", "2026-01-16")])  # closed before the first rate
    with pytest.raises(InputError, match="deal D-1: no exchange rate from GBP to USD"):
        run(plan, [deal("D-1", 100, currency="GBP")], rates=[EUR_USD])


def test_deals_the_plan_does_not_count_need_no_rate() -> None:
    plan = make_plan(tiered(), clawback_days=30)
    deals = [
        deal("D-1", 100),
        eur("D-2", 100, day="2025-12-01"),  # another period
        eur("D-3", 100, status="cancelled", cancelled_at=date(2026, 1, 20)),  # cancelled within clawback
    ]
    (ana,) = run(plan, deals).payees
    assert ana.credited == D("100")


def test_a_cancelled_deal_that_keeps_its_commission_is_converted() -> None:
    plan = make_plan({"name": "Flat", "kind": "per_deal", "rate": "10%"}, clawback_days=30)
    late = eur("D-1", 10000, status="cancelled", cancelled_at=date(2026, 3, 1))  # 45 days after: kept
    (ana,) = run(plan, [late], rates=[EUR_USD]).payees
    assert ana.credited == D("10850.00") and ana.component("Flat").lines[0].text.endswith(CONVERTED)


def test_rates_may_be_a_rate_book() -> None:
    plan = make_plan(tiered())
    (ana,) = run(plan, [eur("D-1", 10000)], rates=RateBook([EUR_USD])).payees
    assert ana.credited == D("10850.00")


# --- properties --------------------------------------------------------------------------------


def _day(offset: int) -> date:
    return date.fromordinal(date(2026, 1, 1).toordinal() + offset)


AMOUNTS = st.decimals(min_value=0, max_value=500000, places=2, allow_nan=False, allow_infinity=False)
RATES = st.decimals(min_value=D("0.0001"), max_value=200, places=4, allow_nan=False, allow_infinity=False)


@given(
    st.lists(st.tuples(AMOUNTS, st.booleans(), st.integers(0, 89)), max_size=12),
    RATES,
)
def test_credit_is_the_sum_of_each_deals_rounded_conversion(rows: list[tuple[Decimal, bool, int]], r: Decimal) -> None:
    plan = make_plan(tiered(mode="marginal"))
    deals = [
        Deal(f"D-{i}", "ana@x.com", amount, "EUR" if in_euros else "USD", _day(day))
        for i, (amount, in_euros, day) in enumerate(rows)
    ]
    result = run(plan, deals, rates=[ExchangeRate("EUR", "USD", r, date(2026, 1, 1))])
    expected = sum(
        (
            (deal.amount * r).quantize(D("0.01"), ROUND_HALF_UP) if deal.currency == "EUR" else deal.amount
            for deal in deals
        ),
        D(0),
    )
    if not deals:
        assert result.payees[0].credited == 0
        return
    (ana,) = result.payees
    assert ana.credited == expected
    assert sum(line.amount for line in ana.component("Commission").lines) == ana.component("Commission").amount


@given(st.lists(st.tuples(AMOUNTS, st.sampled_from(["ana@x.com", "bo@x.com"]), st.integers(0, 89)), max_size=12))
def test_deals_in_the_plan_currency_give_the_same_result_with_or_without_rates(
    rows: list[tuple[Decimal, str, int]],
) -> None:
    plan = make_plan(tiered(mode="marginal"), {"name": "Flat", "kind": "per_deal", "rate": "1%"})
    staff = people("ana@x.com", "bo@x.com")
    quotas = [quota("ana@x.com", 100000), quota("bo@x.com", 50000)]
    deals = [Deal(f"D-{i}", owner, amount, "USD", _day(day)) for i, (amount, owner, day) in enumerate(rows)]
    rates = [EUR_USD, rate("USD", "EUR", "0.9", "2026-02-01"), rate("GBP", "USD", "1.25", "2026-01-01")]
    assert result_to_json(run(plan, deals, quotas, staff, rates=rates)) == result_to_json(
        run(plan, deals, quotas, staff)
    )
