"""Two readings the spec settled (issue 13), through the offline calculator with small files:

- plans.md 4: the standard text fields are never null; empty is the text "", so
  `source_campaign == ""` holds for a deal no campaign sourced and `source_campaign != ""`
  only for one a campaign did; an empty `term_months` is null.
- cli.md: quotas.csv may hold rows of other periods and lengths (quarters under a monthly
  plan included): checked for form, otherwise ignored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commissions.engine import compile_condition

from .helpers import deal
from .test_calculator import DEAL_HEADER, invoke

PEOPLE = "email,name,manager,team,employee_id\nana@x.com,Ana,,East,E1\nmo@x.com,Mo,,Marketing,E2\n"
CAMPAIGNS = "code,name,owner,channel,cost,start,end\nWEB,Webinar,mo@x.com,events,,,\n"


def _write(folder: Path, *, plan: str, deals: str, quotas: str) -> None:
    (folder / "plan.yaml").write_text(plan)
    (folder / "people.csv").write_text(PEOPLE)
    (folder / "deals.csv").write_text(DEAL_HEADER + "\n" + deals)
    (folder / "quotas.csv").write_text("person,metric,period,target\n" + quotas)
    (folder / "campaigns.csv").write_text(CAMPAIGNS)


def _lines(payee: dict, component: str) -> list[tuple[str, str]]:
    (found,) = [c for c in payee["components"] if c["name"] == component]
    return [(line["deal"], line["amount"]) for line in found["lines"]]


EMPTY_TEXT_PLAN = """\
name: Reading
currency: USD
period: quarter
components:
  - {name: Sourced, kind: per_deal, pay: 100, when: 'source_campaign != ""'}
  - {name: Unsourced, kind: per_deal, pay: 10, when: 'source_campaign == ""'}
  - {name: No product, kind: per_deal, pay: 1, when: 'product == ""'}
  - {name: No term, kind: per_deal, pay: 1000, when: 'term_months != 12 and not (term_months == 0)'}
"""


def test_an_empty_source_campaign_is_the_empty_text_not_null(tmp_path: Path) -> None:
    _write(
        tmp_path,
        plan=EMPTY_TEXT_PLAN,
        quotas="",
        deals=(
            "D-1,A,A,ana@x.com,100,USD,2026-01-10,new,Pro,12,WEB,won,,\n"  # sourced by a campaign
            "D-2,B,B,ana@x.com,100,USD,2026-01-11,new,,12,,won,,\n"  # no campaign, no product
            "D-3,C,C,ana@x.com,100,USD,2026-01-12,,Pro,,,won,,\n"  # no type, no term: term is null
        ),
    )
    result = invoke(tmp_path, "--campaigns", str(tmp_path / "campaigns.csv"))
    assert result.exit_code == 0, result.stderr
    (ana,) = json.loads(result.stdout)["payees"]
    assert _lines(ana, "Sourced") == [("D-1", "100.00")]  # before: D-1, D-2 and D-3 (an empty one was null, != true)
    assert _lines(ana, "Unsourced") == [("D-2", "10.00"), ("D-3", "10.00")]  # before: none
    assert _lines(ana, "No product") == [("D-2", "1.00")]
    assert _lines(ana, "No term") == [("D-3", "1000.00")]  # null: != is true, == is false
    assert ana["total"] == "1121.00"


@pytest.mark.parametrize("empty", ["", None])  # the app and the readers give "", other callers may give None
@pytest.mark.parametrize(
    ("text", "without", "with_campaign"),
    [
        ('source_campaign == ""', True, False),
        ('source_campaign != ""', False, True),
        ('source_campaign in [""]', True, False),
        ('source_campaign not in [""]', False, True),
        ('source_campaign != "WEB"', True, False),
        ('source_campaign == "WEB"', False, True),
        ('product == "" and account == "" and name == ""', True, False),
    ],
)
def test_standard_text_fields_are_never_null(empty: str | None, text: str, without: bool, with_campaign: bool) -> None:
    plain = deal("D-9", 1, source_campaign=empty, product=empty, account="", name="")
    sourced = deal("D-8", 1, source_campaign="WEB", product="Pro", account="Acme", name="Acme")
    condition = compile_condition(text)
    assert (condition(plain), condition(sourced)) == (without, with_campaign)


MONTHLY_PLAN = """\
name: Monthly
currency: USD
period: month
quota: bookings
components:
  - name: Commission
    kind: tiered
    tiers:
      - {to: 100%, rate: 10%}
      - {rate: 20%}
"""


def test_quotas_of_other_periods_and_lengths_are_ignored(tmp_path: Path) -> None:
    _write(
        tmp_path,
        plan=MONTHLY_PLAN,
        deals="D-1,A,A,ana@x.com,3000,USD,2026-02-10,new,Pro,12,,won,,\n",
        quotas=(
            "ana@x.com,bookings,2026-Q1,9000\n"  # a quarter under a monthly plan: before, exit 2
            "ana@x.com,bookings,2026,36000\n"  # a year
            "ana@x.com,bookings,2026-01,1000\n"  # another month
            "ana@x.com,bookings,2026-02,2000\n"  # the one that counts
            "mo@x.com,sourced_revenue,2026-Q1,500\n"
        ),
    )
    result = invoke(tmp_path, period="2026-02")
    assert result.exit_code == 0, result.stderr
    (ana,) = json.loads(result.stdout)["payees"]
    assert (ana["quota"], ana["attainment"], ana["total"]) == ("2000.00", "1.5000", "400.00")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("ana@x.com,bookings,2026-Q5,100", "quotas.csv, line 3, field period: '2026-Q5' is not a period"),
        ("ana@x.com,bookings,2026-Q1,lots", "quotas.csv, line 3, field target: 'lots' is not an amount"),
        ("ana@x.com,booking,2026-Q1,100", "quotas.csv, line 3, field metric: 'booking' is not a metric"),
    ],
)
def test_rows_of_other_periods_are_still_checked_for_form(tmp_path: Path, row: str, message: str) -> None:
    """Form: a period, a metric, an amount. Whether the person is in people.csv matters for the
    requested period only (an export of the whole grid names people the file leaves out)."""
    _write(tmp_path, plan=MONTHLY_PLAN, deals="", quotas=f"ana@x.com,bookings,2026-02,2000\n{row}\n")
    result = invoke(tmp_path, period="2026-02")
    assert (result.exit_code, result.stdout) == (2, "")
    assert message in result.stderr


def test_rows_of_other_periods_may_name_people_outside_the_people_file(tmp_path: Path) -> None:
    _write(
        tmp_path,
        plan=MONTHLY_PLAN,
        deals="",
        quotas="ana@x.com,bookings,2026-02,2000\nzed@x.com,bookings,2026-Q1,100\n",
    )
    assert invoke(tmp_path, period="2026-02").exit_code in (0, 1)  # computed (1: someone lacks a quota), never 2
    _write(tmp_path, plan=MONTHLY_PLAN, deals="", quotas="zed@x.com,bookings,2026-02,2000\n")
    refused = invoke(tmp_path, period="2026-02")
    assert refused.exit_code == 2 and "zed@x.com is not in the people file" in refused.stderr


EUR_PLAN = """\
name: Euro
currency: EUR
period: quarter
quota: bookings
components:
  - {name: Commission, kind: per_deal, rate: 10%}
"""


@pytest.mark.parametrize("lean", [True, False])  # the reader's common path, and the grammar's (a split deal)
def test_a_deal_without_a_currency_is_in_the_plans_currency(tmp_path: Path, lean: bool) -> None:
    """An empty currency cell is the plan's currency (it was read as USD, so a EUR plan refused the deal for
    want of a USD rate, or converted it with one); docs/plans.md, "A deal without a currency"."""
    splits = "" if lean else "ana@x.com:100"
    _write(
        tmp_path,
        plan=EUR_PLAN,
        deals=f"Y1,Y,Acme,ana@x.com,100.50,,2026-01-14,new,Pro,12,,won,,{splits}\n",
        quotas="ana@x.com,bookings,2026-Q1,1000\n",
    )
    result = invoke(tmp_path)
    assert result.exit_code == 0, result.stderr
    (payee,) = json.loads(result.stdout)["payees"]
    assert (payee["credited"], payee["total"]) == ("100.50", "10.05")
    assert "USD" not in result.stdout


def test_an_email_names_the_same_person_in_any_case_in_every_file(tmp_path: Path) -> None:
    """people.csv writes Ana@X.com: a quota row, a deal's owner and a campaign's owner in lower case are her."""
    _write(
        tmp_path,
        plan=EUR_PLAN,
        deals="Y1,Y,Acme,ana@x.com,200,EUR,2026-01-14,new,Pro,12,WEB,won,,\n",
        quotas="ana@x.com,bookings,2026-Q1,1000\nMO@x.com,bookings,2026-Q1,1000\n",
    )
    (tmp_path / "people.csv").write_text(
        "email,name,manager,team,employee_id\nAna@X.com,Ana,,East,E1\nmo@x.com,Mo,,M,E2\n"
    )
    (tmp_path / "campaigns.csv").write_text("code,name,owner,channel,cost,start,end\nWEB,Webinar,Mo@X.COM,events,,,\n")
    result = invoke(tmp_path, "--campaigns", str(tmp_path / "campaigns.csv"))
    assert result.exit_code == 0, result.stderr
    payees = {p["person"]: p for p in json.loads(result.stdout)["payees"]}
    assert payees["Ana@X.com"]["quota"] == "1000.00" and payees["Ana@X.com"]["total"] == "20.00"
