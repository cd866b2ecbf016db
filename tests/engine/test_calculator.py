"""The offline calculator: CSV readers and the `calc` command (run through click's CliRunner)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from commissions.calculator.command import calc_command

DATA = Path(__file__).parent / "data"
DEAL_HEADER = "external_id,name,account,owner,amount,currency,closed_at,type,product,term_months,source_campaign,status,cancelled_at,splits"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("plan.yaml", "people.csv", "deals.csv", "quotas.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def invoke(folder: Path, *extra: str, period: str = "2026-Q1", json_output: bool = True):
    args = [
        "--plan",
        str(folder / "plan.yaml"),
        "--people",
        str(folder / "people.csv"),
        "--deals",
        str(folder / "deals.csv"),
        "--quotas",
        str(folder / "quotas.csv"),
        "--period",
        period,
        *extra,
    ]
    if json_output:
        args.append("--json")
    return CliRunner().invoke(calc_command, args)


def test_worked_example_files_give_the_expected_document(files: Path) -> None:
    result = invoke(files)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == json.loads((DATA / "expected.json").read_text())
    assert result.stderr == ""


def test_recomputing_is_byte_identical(files: Path) -> None:
    assert invoke(files).stdout == invoke(files).stdout


def test_text_statement(files: Path) -> None:
    result = invoke(files, json_output=False)
    assert result.exit_code == 0
    assert "ana@example.com (Ana Rep)" in result.stdout
    assert (
        "D-2 Globex platform: 40000.00 at 10% (tier 1) + 5000.00 at 15% (tier 2, 100%-150%) = 4750.00" in result.stdout
    )
    assert result.stdout.rstrip().endswith("13750.00")
    assert "mia@example.com" not in result.stdout


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("deals.csv", "60000,USD", "6O000,USD", "deals.csv, line 2, field amount: '6O000' is not an amount"),
        (
            "deals.csv",
            "60000,USD",
            "60000.001,USD",
            "deals.csv, line 2, field amount: 60000.001 has more than 2 decimals",
        ),
        (
            "deals.csv",
            "45000,USD",
            "45000,EUR",
            "deals.csv, line 3, field currency: deal D-2: no exchange rate from EUR to USD on or before 2026-02-03",
        ),
        (
            "deals.csv",
            "D-3,Initech renewal,Initech,ana@example.com",
            "D-3,Initech renewal,Initech,zed@example.com",
            "deals.csv, line 4, field owner: zed@example.com is not in the people file",
        ),
        ("deals.csv", "2026-02-03", "2026-02-30", "deals.csv, line 3, field closed_at: '2026-02-30' is not a date"),
        (
            "deals.csv",
            "Pro,12,,won,,\nD-2",
            "Pro,12,,won,,ana@example.com:60;mia@example.com:30\nD-2",
            "deals.csv, line 2, field splits: shares sum to 90, not 100",
        ),
        (
            "deals.csv",
            "Pro,12,,won,,\nD-2",
            "Pro,12,,won,,ana@example.com:60;bob@example.com:40\nD-2",
            "deals.csv, line 2, field splits: bob@example.com is not in the people file",
        ),
        (
            "deals.csv",
            "Pro,12,,won,,\nD-2",
            "Pro,12,,lost,,\nD-2",
            "deals.csv, line 2, field status: 'lost' is not a status",
        ),
        (
            "deals.csv",
            "Pro,12,,won,,\nD-2",
            "Pro,12,,cancelled,,\nD-2",
            "deals.csv, line 2, field cancelled_at: a cancelled deal needs cancelled_at",
        ),
        ("deals.csv", ",new,Pro,12", ",newish,Pro,12", "deals.csv, line 2, field type: 'newish' is not a deal type"),
        (
            "deals.csv",
            "Pro,12,,won",
            "Pro,twelve,,won",
            "deals.csv, line 2, field term_months: 'twelve' is not a whole number",
        ),
        ("deals.csv", "D-2,Globex", "D-1,Globex", "deals.csv, line 3, field external_id: D-1 is already on line 2"),
        ("deals.csv", "status,cancelled_at", "state,cancelled_at", "deals.csv, line 1, field status: missing column"),
        (
            "people.csv",
            "ana@example.com,Ana Rep,mia@example.com",
            "ana@example.com,Ana Rep,max@example.com",
            "people.csv, line 3, field manager: max@example.com is not in",
        ),
        (
            "quotas.csv",
            "bookings,2026-Q1",
            "bookings,2026-Q5",
            "quotas.csv, line 2, field period: '2026-Q5' is not a period",
        ),
        (
            "quotas.csv",
            "bookings,2026-Q1",
            "booking,2026-Q1",
            "quotas.csv, line 2, field metric: 'booking' is not a metric",
        ),
        ("quotas.csv", "2026-Q1,100000", "2026-Q1,-5", "quotas.csv, line 2, field target: -5 is negative"),
        (
            "quotas.csv",
            "ana@example.com,",
            "anna@example.com,",
            "quotas.csv, line 2, field person: anna@example.com is not in the people file",
        ),
        (
            "plan.yaml",
            "rate: 15%",
            "rate: 150%",
            "plan.yaml, line 15, field Commission: tiers[1].rate: rate 150% is outside 0%-100%",
        ),
        (
            "plan.yaml",
            'product in ["Pro", "Enterprise"]',
            "product.startswith('E')",
            "plan.yaml, line 20, field Multi-year SPIFF: when: attribute access is not allowed in conditions (at position 30)",
        ),
        (
            "plan.yaml",
            'when: type != "renewal"',
            "when: region != 1",
            "plan.yaml, line 7, field credit.when: unknown name 'region'",
        ),
        ("plan.yaml", "    at: 100%\n", "", "plan.yaml, line 24, field Quota club: at: is required"),
        (
            "plan.yaml",
            "cap: 100000",
            "cap: 100000\nbonus: 5",
            "plan.yaml, line 29, field bonus: is not a field of a plan",
        ),
    ],
)
def test_bad_input_exits_2_naming_file_line_and_field(files: Path, file: str, old: str, new: str, message: str) -> None:
    _replace(files / file, old, new)
    result = invoke(files)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert str(files / file) in result.stderr


def test_a_plan_may_ask_for_deals_of_no_type(files: Path) -> None:
    """plans.md 4: an empty standard text field is the text "", ``type`` included."""
    _replace(files / "plan.yaml", "when: term_months >= 24 and", 'when: type == "" and term_months >= 24 and')
    assert invoke(files).exit_code == 0


def test_period_must_match_the_plan(files: Path) -> None:
    result = invoke(files, period="2026-03")
    assert (result.exit_code, result.stdout) == (2, "")
    assert "--period: 2026-03 is a month; plan 'AE 2026' is per quarter" in result.stderr


def test_missing_option_and_missing_file_exit_2(files: Path) -> None:
    assert CliRunner().invoke(calc_command, ["--plan", str(files / "plan.yaml")]).exit_code == 2
    (files / "quotas.csv").unlink()
    assert invoke(files).exit_code == 2


def test_payee_error_exits_1_and_still_prints_the_document(files: Path) -> None:
    (files / "quotas.csv").write_text("person,metric,period,target\n")
    result = invoke(files)
    assert result.exit_code == 1
    (payee,) = json.loads(result.stdout)["payees"]
    assert payee["errors"] == ["no bookings quota for ana@example.com in 2026-Q1"] and "total" not in payee
    assert "no bookings quota for ana@example.com in 2026-Q1" in result.stderr


def test_custom_columns_plan_column_and_campaigns(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(
        "name: Mkt\ncurrency: USD\nperiod: month\nquota: sourced_revenue\ncomponents:\n"
        "  - {name: Club, kind: bonus, at: 100%, pay: 1000}\n"
        '  - {name: EMEA kicker, kind: per_deal, pay: 50, when: region == "EMEA" and seats > 10}\n'
    )
    (tmp_path / "people.csv").write_text(
        "email,name,manager,team,employee_id,plan\nmo@x.com,Mo,,M,1,Mkt\nana@x.com,Ana,,S,2,AE 2026\nsy@x.com,Sy,,M,3,Mkt\n"
    )
    (tmp_path / "deals.csv").write_text(
        f"{DEAL_HEADER},region,seats\n"
        "D-1,A,A,ana@x.com,6000,USD,2026-02-01,new,Pro,12,WEB,won,,,EMEA,12\n"
        "D-2,B,B,ana@x.com,5000,USD,2026-02-02,new,Pro,12,WEB,won,,,AMER,40\n"
        "D-3,C,C,ana@x.com,5000,USD,2026-02-03,new,Pro,12,GONE,won,,,EMEA,40\n"
    )
    (tmp_path / "quotas.csv").write_text(
        "person,metric,period,target\nmo@x.com,sourced_revenue,2026-02,10000\nana@x.com,bookings,2026-Q1,1\n"
    )
    (tmp_path / "campaigns.csv").write_text(
        "code,name,owner,channel,cost,start,end\nWEB,Webinar,mo@x.com,events,1200.50,2026-01-01,2026-01-31\n"
    )
    result = invoke(tmp_path, "--campaigns", str(tmp_path / "campaigns.csv"), period="2026-02")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    (mo,) = document["payees"]  # sy has neither quota nor credit; ana is on another plan
    assert (mo["person"], mo["credited"], mo["attainment"], mo["total"]) == (
        "mo@x.com",
        "11000.00",
        "1.1000",
        "1050.00",
    )
    assert mo["components"][1]["lines"][0]["text"] == "D-1 A: region EMEA, seats 12: SPIFF 50.00"
    assert "campaign 'GONE' is unknown" in result.stderr


@pytest.mark.parametrize("file", ["people.csv", "deals.csv", "quotas.csv", "plan.yaml"])
def test_a_file_not_in_utf8_names_the_line_of_its_first_foreign_byte(files: Path, file: str) -> None:
    """A file saved as Latin-1 (José in a name): the error names the line, however far in the byte is (the
    decoder reads ahead in blocks, so without looking again the line was 1, or none)."""
    path = files / file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if file == "deals.csv":  # far beyond the decoder's first block
        header, first = lines[0], lines[1]
        lines = [header] + [first.replace("D-1,", f"X-{n},", 1) for n in range(3000)] + lines[1:]
    target = len(lines) - 1  # the last line
    content = "".join(lines[:target]).encode() + lines[target].replace(lines[target][0], "é", 1).encode("latin-1")
    path.write_bytes(content)
    result = invoke(files)
    assert result.exit_code == 2
    assert f"{path}, line {target + 1}: not UTF-8 text (byte 0xe9" in result.stderr
