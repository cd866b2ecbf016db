"""The `when` language: parsing, evaluation with nulls and custom fields, rejection with positions."""

from __future__ import annotations

from datetime import date

import pytest

from commissions.engine import ConditionError, compile_condition
from commissions.engine.conditions import And, Compare, Membership, Not, Or, parse

from .helpers import deal

D1 = deal(
    "D-1",
    45000,
    day="2026-02-03",
    type="new",
    product="Enterprise",
    term_months=36,
    account="Globex",
    custom={"region": "EMEA", "seats": "120", "renewal_date": "2027-02-03", "strategic": "yes", "notes": ""},
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('term_months >= 24 and product in ["Pro", "Enterprise"]', True),
        ('type != "renewal"', True),
        ('type == "renewal" or amount > 40000', True),
        ("not (amount > 40000)", False),
        ("amount >= 45000 and amount <= 45000", True),
        ("45000 == amount", True),  # literal on the left is flipped
        ("100000 > amount", True),
        ("closed_at >= 2026-02-01 and closed_at < 2026-03-01", True),
        ('product not in ["Pro"]', True),
        ('source_campaign == "X"', False),  # empty: the text "" (standard text fields are never null)
        ('source_campaign != "X"', True),
        ('source_campaign == ""', True),
        ('source_campaign != ""', False),
        ('source_campaign not in ["X"]', True),
        ('region == "EMEA"', True),  # custom field as text
        ("seats > 100", True),  # custom field as a number when the literal is one
        ("seats == 120.0", True),
        ("renewal_date > 2027-01-01", True),  # as a date
        ("strategic == true", True),
        ("strategic", True),  # a bare field means == true
        ('notes == ""', False),  # empty custom value: null
        ('notes != "x"', True),
        ("missing_field > 3", False),  # custom field absent on this deal: null
        ("amount > -1", True),
        ("true", True),
        ("term_months >= 24 and (product == \"Pro\" or account == 'Globex')", True),
    ],
)
def test_evaluation(text: str, expected: bool) -> None:
    condition = compile_condition(text, ["region", "seats", "renewal_date", "strategic", "notes", "missing_field"])
    assert condition(D1) is expected


def test_unreadable_custom_number_is_null() -> None:
    odd = deal("D-2", 1, custom={"seats": "lots"})
    condition = compile_condition("seats > 3", ["seats"])
    assert condition(odd) is False
    assert compile_condition("seats != 3", ["seats"])(odd) is True


def test_not_negates_what_a_comparison_with_null_gave() -> None:
    """docs/plans.md (our reading of plans.md 4): only ``!=`` and ``not in`` are true for null; ``not`` negates the
    comparison's false, so ``not (term_months >= 12)`` holds for a deal without a term."""
    termless = deal("D-3", 1, term_months=None)
    assert compile_condition("term_months >= 12")(termless) is False
    assert compile_condition("term_months < 12")(termless) is False
    assert compile_condition("not (term_months >= 12)")(termless) is True
    assert compile_condition("term_months != 12")(termless) is True
    assert compile_condition("term_months not in [12, 24]")(termless) is True
    assert compile_condition("term_months in [12, 24]")(termless) is False


def test_an_empty_type_is_the_text_empty_like_every_standard_text_field() -> None:
    """plans.md 4: the standard text fields are never null, an empty one is ``""``; ``type`` is one of them."""
    untyped, renewal = deal("D-1", 1, type=""), deal("D-2", 1, type="renewal")
    assert compile_condition('type == ""')(untyped) is True
    assert compile_condition('type == ""')(renewal) is False
    assert compile_condition('type != ""')(renewal) is True
    assert compile_condition('type in ["new", ""]')(untyped) is True
    assert compile_condition('type not in [""]')(untyped) is False


def test_ast_is_plain_data() -> None:
    node = parse('a == 1 and not (b in ["x", "y"] or c < 2026-01-31)')
    assert isinstance(node, And)
    compare, negation = node.operands
    assert isinstance(compare, Compare) and compare.field.name == "a" and compare.op == "=="
    assert isinstance(negation, Not) and isinstance(negation.operand, Or)
    membership, dated = negation.operand.operands
    assert isinstance(membership, Membership) and [v.value for v in membership.values] == ["x", "y"]
    assert dated.literal.value == date(2026, 1, 31) and dated.literal.kind == "date"


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("amount + 5 > 10", "arithmetic is not allowed", 8),
        ('product * 2 == "x"', "arithmetic is not allowed", 9),
        ('name + "x" == "y"', "arithmetic is not allowed", 6),
        ("len(name) > 3", "function calls are not allowed", 4),
        ("deal.amount > 3", "attribute access is not allowed", 5),
        ("__import__('os')", "function calls are not allowed", 11),
        ("term > 3", "unknown name 'term'", 1),
        ("amount > 3 and regio == 'x'", "unknown name 'regio'", 16),
        ('amount == "big"', 'amount is a number and cannot be compared with "big"', 11),
        ('type == "renewl"', 'type is one of new, expansion, renewal or "" (no type), not "renewl"', 9),
        ('product > "M"', "> compares numbers or dates; product is text", 11),
        ("closed_at > 2026-02-30", "2026-02-30 is not a date", 13),
        ("amount = 3", "use == to compare", 8),
        ("amount > 3 &&", "write and / or / not", 12),
        ("(amount > 3", "expected ')'", 12),
        ("amount >", "unexpected end of condition", 9),
        ("amount > 3 product", "unexpected 'product'", 12),
        ('product in "Pro"', "expected '['", 12),
        ("product in []", "empty list", 13),
        ("amount == product", "compare a field with a literal", 8),
        ("3 < 4", "a comparison needs a field", 3),
        ('"x"', "expected a comparison", 1),
        ("product == 'Pro", "unterminated text", 12),
        ("amount", "amount is a number; compare it with a value", 1),
        ("", "empty condition", 1),
    ],
)
def test_rejections_name_the_position(text: str, message: str, position: int) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(text)
    assert message in caught.value.message
    assert caught.value.position == position
