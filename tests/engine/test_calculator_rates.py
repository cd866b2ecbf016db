"""`commissions calc --rates rates.csv` (cli.md): deals in another currency, end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from commissions.calculator.command import calc_command
from commissions.calculator.readers import CsvError, read_rates

DATA = Path(__file__).parent / "data"
RATES = "from,to,rate,effective_from\nEUR,USD,1.0850,2026-01-01\n"
D2_CONVERTED = "(converted: 40,000.00 EUR at 1.0850 = 43,400.00 USD)"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("plan.yaml", "people.csv", "deals.csv", "quotas.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    deals = tmp_path / "deals.csv"
    text = deals.read_text()
    assert "45000,USD" in text
    deals.write_text(text.replace("45000,USD", "40000,EUR"))  # D-2, closed 2026-02-03
    (tmp_path / "rates.csv").write_text(RATES)
    return tmp_path


def invoke(folder: Path, *extra: str, rates: bool = True, json_output: bool = True):
    args = ["--plan", str(folder / "plan.yaml"), "--people", str(folder / "people.csv")]
    args += ["--deals", str(folder / "deals.csv"), "--quotas", str(folder / "quotas.csv"), "--period", "2026-Q1"]
    if rates:
        args += ["--rates", str(folder / "rates.csv")]
    if json_output:
        args.append("--json")
    return CliRunner().invoke(calc_command, [*args, *extra])


def test_json_output_converts_the_deal_and_says_so(files: Path) -> None:
    result = invoke(files)
    assert result.exit_code == 0, result.stderr
    (ana,) = json.loads(result.stdout)["payees"]
    assert ana["credited"] == "103400.00"  # 60000 + 40000 × 1.0850 (D-3 is a renewal: not credited)
    commission = ana["components"][0]
    d2 = next(line for line in commission["lines"] if line["deal"] == "D-2")
    assert d2 == {
        "deal": "D-2",
        "amount": "4510.00",
        "text": "D-2 Globex platform: 40000.00 at 10% (tier 1) + 3400.00 at 15% (tier 2, 100%-150%) = 4510.00 "
        + D2_CONVERTED,
    }
    spiff = ana["components"][1]["lines"]
    assert spiff[0]["deal"] == "D-2" and spiff[0]["text"].endswith(D2_CONVERTED)
    d1 = next(line for line in commission["lines"] if line["deal"] == "D-1")
    assert "converted" not in d1["text"]


def test_text_statement_shows_the_conversion(files: Path) -> None:
    result = invoke(files, json_output=False)
    assert result.exit_code == 0, result.stderr
    assert f"= 4510.00 {D2_CONVERTED}" in result.stdout
    assert "Credited 103400.00 against a bookings quota of 100000.00" in result.stdout


def test_a_deal_without_a_rate_is_bad_input_on_its_line(files: Path) -> None:
    (files / "rates.csv").write_text("from,to,rate,effective_from\nEUR,USD,1.0850,2026-02-04\n")
    result = invoke(files)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        "Error: deals.csv, line 3, field currency: deal D-2: no exchange rate from EUR to USD on or before 2026-02-03"
    ).replace("deals.csv", str(files / "deals.csv"))


def test_without_rates_a_deal_in_another_currency_is_bad_input(files: Path) -> None:
    result = invoke(files, rates=False)
    assert result.exit_code == 2 and result.stdout == ""
    assert "deals.csv, line 3, field currency: deal D-2: no exchange rate from EUR to USD on or before 2026-02-03" in (
        result.stderr
    )
    assert "(no --rates file given)" in result.stderr


def test_the_worked_example_is_unchanged_with_rates_given(tmp_path: Path) -> None:
    for name in ("plan.yaml", "people.csv", "deals.csv", "quotas.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "rates.csv").write_text(RATES + "USD,EUR,0.9217,2026-01-01\n")
    with_rates = invoke(tmp_path)
    assert with_rates.exit_code == 0, with_rates.stderr
    assert json.loads(with_rates.stdout) == json.loads((DATA / "expected.json").read_text())
    assert with_rates.stdout == invoke(tmp_path, rates=False).stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("from,to,rate\nEUR,USD,1.0850\n", "line 1, field effective_from: missing column"),
        ("source,to,rate,effective_from\n", "line 1, field from: missing column"),
        (
            "from,to,rate,effective_from\nEUR,USD,abc,2026-01-01\n",
            "line 2, field rate: 'abc' is not a positive decimal",
        ),
        ("from,to,rate,effective_from\nEUR,USD,0,2026-01-01\n", "line 2, field rate: '0' is not a positive decimal"),
        ("from,to,rate,effective_from\nEUR,USD,-1.08,2026-01-01\n", "line 2, field rate: '-1.08' is not a positive"),
        ("from,to,rate,effective_from\nEUR,USD,1e3,2026-01-01\n", "line 2, field rate: '1e3' is not a positive"),
        ("from,to,rate,effective_from\nEUR,USD,,2026-01-01\n", "line 2, field rate: (empty) is not a positive"),
        (
            "from,to,rate,effective_from\nEUR,USD,1.08,2026-02-30\n",
            "line 2, field effective_from: '2026-02-30' is not a date",
        ),
        ("from,to,rate,effective_from\nEUR,USD,1.08,\n", "line 2, field effective_from: empty date"),
        (
            "from,to,rate,effective_from\nEURO,USD,1.08,2026-01-01\n",
            "line 2, field from: 'EURO' is not a currency code",
        ),
        ("from,to,rate,effective_from\nEUR,U5D,1.08,2026-01-01\n", "line 2, field to: 'U5D' is not a currency code"),
        ("from,to,rate,effective_from\nEUR,,1.08,2026-01-01\n", "line 2, field to: (empty) is not a currency code"),
        ("from,to,rate,effective_from\nEUR,eur,1.08,2026-01-01\n", "line 2, field to: a rate from EUR to EUR"),
        (
            "from,to,rate,effective_from\nEUR,USD,1.08,2026-01-01\n\nEUR,USD,1.09,2026-01-01\n",
            "line 4, field rate: EUR to USD from 2026-01-01 is 1.08 on line 2; one date has one rate",
        ),
    ],
)
def test_bad_rates_files_name_the_line_and_the_field(files: Path, content: str, message: str) -> None:
    (files / "rates.csv").write_text(content)
    result = invoke(files)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{files / 'rates.csv'}, {message}" in result.stderr


def test_rates_are_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(
        "from,to,rate,effective_from,note\neur,usd, 1.0850 ,2026-01-01,ECB\nEUR,USD,1.0850,2026-01-01,again\n"
    )
    (rate,) = read_rates(path)  # codes in upper case, extra columns ignored, the same rate twice kept once
    assert (rate.source, rate.target, str(rate.rate), rate.effective_from.isoformat()) == (
        "EUR",
        "USD",
        "1.0850",
        "2026-01-01",
    )
    path.write_text("")
    with pytest.raises(CsvError, match="empty file; expected a header: from,to,rate,effective_from"):
        read_rates(path)


def test_the_spec_example_with_d2_in_eur_worked_by_hand(tmp_path: Path) -> None:
    """docs/finance.md, "The worked example in euros": D-2 (45,000, closed 2026-02-03) moved to EUR, one rate
    EUR→USD 1.0850 from 2026-01-01. By hand: 45,000.00 × 1.0850 = 48,825.00 USD (exact, nothing to round);
    ana's credit 60,000.00 + 48,825.00 = 108,825.00 against 100,000.00 (attainment 1.08825 → 1.0883);
    commission D-1 60,000.00 × 10% = 6,000.00 (tier 1), D-2 40,000.00 × 10% = 4,000.00 (the rest of tier 1)
    + 8,825.00 × 15% = 1,323.75 (tier 2) = 5,323.75; SPIFF 500.00 (36 months, Enterprise); quota club
    2,500.00; total 6,000.00 + 5,323.75 + 500.00 + 2,500.00 = 14,323.75 (13,750.00 in dollars)."""
    for name in ("plan.yaml", "people.csv", "deals.csv", "quotas.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    deals = tmp_path / "deals.csv"
    deals.write_text(deals.read_text().replace("45000,USD", "45000,EUR"))
    (tmp_path / "rates.csv").write_text(RATES)
    result = invoke(tmp_path)
    assert result.exit_code == 0, result.stderr
    (ana,) = json.loads(result.stdout)["payees"]
    assert (ana["credited"], ana["quota"], ana["attainment"], ana["total"]) == (
        "108825.00",
        "100000.00",
        "1.0883",
        "14323.75",
    )
    amounts = {c["name"]: c["amount"] for c in ana["components"]}
    assert amounts == {"Commission": "11323.75", "Multi-year SPIFF": "500.00", "Quota club": "2500.00"}
    lines = {(line["deal"], line["amount"]) for c in ana["components"] for line in c["lines"]}
    assert lines == {("D-1", "6000.00"), ("D-2", "5323.75"), ("D-2", "500.00"), (None, "2500.00")}
    converted = [line["text"] for c in ana["components"] for line in c["lines"] if line["deal"] == "D-2"]
    assert all("45,000.00 EUR at 1.0850 = 48,825.00 USD" in text for text in converted)
