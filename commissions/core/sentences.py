"""A payout line's sentence in the page's language (docs/translating.md, "Payout line sentences").

The engine writes every line's sentence in English and the ledger stores it as written: the offline
calculator, the API and proof of pay compare sentences character for character, so the stored text never
changes with a reader's language. A page in another language shows the same sentence translated here, at
the moment it is shown: the sentence is read back by the grammar the engine writes it in (one pattern per
form, matched whole), its figures are kept as they are and its words come from the catalogs. A sentence
that matches no form (a finance adjustment's reason, a form written by an older version) is shown in
English as stored; nothing is ever guessed.

What a sentence says is never recomputed: every figure in the translation is a figure of the stored text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from commissions.core.formatting import group_amounts, shown_word
from commissions.core.i18n import N_, current_locale, gettext

#: An amount, a count or a rate as the engine writes it (``str`` of a ``Decimal``: ``1100.00``, ``-12.5``).
_NUM = r"-?\d+(?:\.\d+)?"
_PCT = _NUM + "%"
#: An amount the app wrote with its separators and currency (``1,200.00 USD``), or a converted one.
_MONEY = r"-?[\d,]+(?:\.\d+)? [A-Z]{3}"
_DATE = r"\d{4}-\d{2}-\d{2}"

_TIER_RANGE = rf"(?:up to |over )?(?:{_PCT}|{_NUM})(?:-(?:{_PCT}|{_NUM}))?(?: of quota)?|all(?: of quota)?"
_TIER_PART = rf"(?P<money>{_NUM}) at (?P<rate>{_PCT}) \(tier (?P<tier>\d+)(?:, (?P<range>{_TIER_RANGE}))?\)"
_SEGMENT = (
    rf"at or below the first point (?P<first>{_PCT})|at or beyond the last point (?P<last>{_PCT})"
    rf"|between (?P<low>{_PCT}) \((?P<low_pay>{_NUM})\) and (?P<high>{_PCT}) \((?P<high_pay>{_NUM})\)"
)
_MEASURE = rf"{_NUM}(?: deals)?"


def _parts_pattern() -> str:
    """`` + ``-joined tier parts, without named groups (each part is read again by ``_TIER_PART``)."""
    bare = re.sub(r"\(\?P<\w+>", "(?:", _TIER_PART)
    return rf"{bare}(?: \+ {bare})*"


_PARTS = _parts_pattern()

_TIERED = re.compile(rf"(?:(?P<share>{_PCT}) share of (?P<of>{_NUM}): )?(?P<parts>{_PARTS}) = (?P<amount>{_NUM})")
_DEAL_SIZE = re.compile(
    rf"deal of (?P<of>{_NUM}): (?P<parts>{_PARTS})(?:, (?P<share>{_PCT}) share)? = (?P<amount>{_NUM})"
)
_OVERRIDE = re.compile(
    rf"(?P<credited>{_NUM})(?: of (?P<total>{_NUM}))? credited to (?P<who>\S+(?: {_PCT}(?:, \S+ {_PCT})*)?)"
    rf" at (?P<rate>{_PCT}) = (?P<amount>{_NUM})"
)
_SPIFF = rf"SPIFF {_NUM}(?: \({_PCT} of {_NUM}\))?"
_AT_RATE = rf"{_NUM}(?: of {_NUM} \({_PCT} share\))? at {_PCT}"
_PER_DEAL = re.compile(
    rf"(?:(?P<values>.+?): )?(?P<parts>(?:{_SPIFF}|{_AT_RATE})(?: \+ (?:{_SPIFF}|{_AT_RATE}))*)"
    rf"(?: = (?P<amount>{_NUM}))?"
)
_SPIFF_PART = re.compile(rf"SPIFF (?P<pay>{_NUM})(?: \((?P<share>{_PCT}) of (?P<full>{_NUM})\))?")
_AT_RATE_PART = re.compile(
    rf"(?P<credited>{_NUM})(?: of (?P<amount>{_NUM}) \((?P<share>{_PCT}) share\))? at (?P<rate>{_PCT})"
)
_CURVE_DEAL = re.compile(
    rf"(?P<credited>{_MEASURE}) of (?P<total>{_MEASURE}) credited; share of the curve payout (?P<payout>{_NUM})"
    rf" \(attainment (?P<attained>{_PCT}), (?P<segment>{_SEGMENT})\) = (?P<amount>{_NUM})"
)

_BONUS_PAID = re.compile(rf"Attainment (?P<attained>{_PCT}) >= (?P<at>{_PCT}): bonus (?P<pay>{_NUM})")
_BONUS_MISSED = re.compile(
    rf"Attainment (?P<attained>{_PCT}) < (?P<at>{_PCT}): no bonus \((?P<pay>{_NUM}) at (?P=at)\)"
)
_CURVE = re.compile(rf"Curve payout at attainment (?P<attained>{_PCT}), (?P<segment>{_SEGMENT}) = (?P<amount>{_NUM})")
_PLAN_CAP = re.compile(rf"Plan total capped at (?P<cap>{_NUM}) \(earned (?P<earned>{_NUM})\): (?P<amount>{_NUM})")
_CAP = re.compile(rf"(?P<component>.+) capped at (?P<cap>{_NUM}) \(earned (?P<earned>{_NUM})\): (?P<amount>{_NUM})")
_DRAW = re.compile(
    rf"Draw (?P<draw>{_NUM}): earnings (?P<earnings>{_NUM}), top-up (?P<amount>{_NUM})"
    rf" \(recoverable; balance now (?P<balance>{_NUM})\)"
)
_DRAW_KEPT = re.compile(
    rf"Draw (?P<draw>{_NUM}): earnings (?P<earnings>{_NUM}), top-up (?P<amount>{_NUM}) \(non-recoverable\)"
)
_DRAW_RECOVERY = re.compile(
    rf"Draw recovery: earnings (?P<earnings>{_NUM}) above the (?P<draw>{_NUM}) draw repay (?P<repaid>{_NUM})"
    rf" of the (?P<balance_in>{_NUM}) balance \(balance now (?P<balance>{_NUM})\)"
)
_BALANCE_MOVE = re.compile(
    rf"(?P<line>.+) \(draw balance out of (?P<period>\S+): (?P<before>{_MONEY}) → (?P<after>{_MONEY})\)"
)
_PRIOR = re.compile(rf"Prior-period adjustment for (?P<period>\S+), (?P<what>.+): (?P<amount>{_MONEY})")
_CLAWBACK = re.compile(
    rf"Clawback for (?P<period>\S+): deal (?P<deal>.+) cancelled on (?P<date>{_DATE}): (?P<amount>{_MONEY})"
)
_REVERSAL = re.compile(r"Reverses: (?P<line>.+) \((?P<reason>[^()]*)\)")
_CONVERTED = re.compile(
    rf"(?P<line>.+) \(converted: (?P<amount>{_MONEY}) at (?P<rate>\S+(?: \([A-Z]{{3}}→[A-Z]{{3}}\))?)"
    rf" = (?P<converted>{_MONEY})\)"
)

_Match = re.Match[str]


def _fill(message: str, **values: str) -> str:
    """``message`` in the page's language with ``values`` (a pattern's named groups: those it names are used)."""
    return gettext(message) % values


def _tier_range(text: str) -> str:
    """``up to 100% of quota``, ``over 150%``, ``100%-150% of quota``, ``all``: in the page's language."""
    of_quota = text.endswith(" of quota")
    bare = text.removesuffix(" of quota")
    if bare == "all":
        return gettext(N_("all of quota")) if of_quota else gettext(N_("all"))
    if bare.startswith("up to "):
        bound = bare.removeprefix("up to ")
        return _fill(N_("up to %(bound)s of quota") if of_quota else N_("up to %(bound)s"), bound=bound)
    if bare.startswith("over "):
        bound = bare.removeprefix("over ")
        return _fill(N_("over %(bound)s of quota") if of_quota else N_("over %(bound)s"), bound=bound)
    if of_quota:
        low, _, high = bare.partition("-")
        return _fill(N_("%(low)s-%(high)s of quota"), low=low, high=high)
    return bare


def _tier_parts(text: str) -> str:
    parts = []
    for part in re.finditer(_TIER_PART, text):
        values = {"money": part["money"], "rate": part["rate"], "tier": part["tier"]}
        if part["range"] is None:
            parts.append(_fill(N_("%(money)s at %(rate)s (tier %(tier)s)"), **values))
        else:
            parts.append(
                _fill(
                    N_("%(money)s at %(rate)s (tier %(tier)s, %(range)s)"), **values, range=_tier_range(part["range"])
                )
            )
    return " + ".join(parts)


def _tiered(m: _Match) -> str:
    head = (
        ""
        if m["share"] is None
        else _fill(N_("%(share)s share of %(amount)s"), share=m["share"], amount=m["of"]) + ": "
    )
    return f"{head}{_tier_parts(m['parts'])} = {m['amount']}"


def _deal_size(m: _Match) -> str:
    share = "" if m["share"] is None else ", " + _fill(N_("%(share)s share"), share=m["share"])
    head = _fill(N_("deal of %(amount)s"), amount=m["of"])
    return f"{head}: {_tier_parts(m['parts'])}{share} = {m['amount']}"


def _override(m: _Match) -> str:
    values = {"credited": m["credited"], "who": m["who"], "rate": m["rate"]}
    if m["total"] is None:
        said = _fill(N_("%(credited)s credited to %(who)s at %(rate)s"), **values)
    else:
        said = _fill(N_("%(credited)s of %(total)s credited to %(who)s at %(rate)s"), **values, total=m["total"])
    return f"{said} = {m['amount']}"


def _deal_value(text: str) -> str:
    """A deal's value a per-deal line names (the fields its condition reads)."""
    if m := re.fullmatch(r"(\d+) months", text):
        return _fill(N_("%(months)s months"), months=m[1])
    if m := re.fullmatch(rf"amount ({_NUM})", text):
        return _fill(N_("amount %(amount)s"), amount=m[1])
    if m := re.fullmatch(rf"closed ({_DATE})", text):
        return _fill(N_("closed %(date)s"), date=m[1])
    if m := re.fullmatch(r"campaign (.+)", text):
        return _fill(N_("campaign %(code)s"), code=m[1])
    return shown_word(text)


def _per_deal(m: _Match) -> str:
    parts = []
    for part in m["parts"].split(" + "):
        if spiff := _SPIFF_PART.fullmatch(part):
            if spiff["share"] is None:
                parts.append(part)  # "SPIFF 250.00": the product's term in every language
            else:
                parts.append(
                    _fill(
                        N_("SPIFF %(pay)s (%(share)s of %(full)s)"),
                        pay=spiff["pay"],
                        share=spiff["share"],
                        full=spiff["full"],
                    )
                )
        elif (at := _AT_RATE_PART.fullmatch(part)) is not None:
            credited = at["credited"]
            if at["share"] is not None:
                credited = _fill(
                    N_("%(credited)s of %(amount)s (%(share)s share)"),
                    credited=credited,
                    amount=at["amount"],
                    share=at["share"],
                )
            parts.append(_fill(N_("%(credited)s at %(rate)s"), credited=credited, rate=at["rate"]))
    head = "" if m["values"] is None else ", ".join(map(_deal_value, m["values"].split(", "))) + ": "
    tail = "" if m["amount"] is None else f" = {m['amount']}"
    return f"{head}{' + '.join(parts)}{tail}"


def _segment(m: _Match) -> str:
    if m["first"] is not None:
        return _fill(N_("at or below the first point %(point)s"), point=m["first"])
    if m["last"] is not None:
        return _fill(N_("at or beyond the last point %(point)s"), point=m["last"])
    return _fill(
        N_("between %(low)s (%(low_pay)s) and %(high)s (%(high_pay)s)"),
        low=m["low"],
        low_pay=m["low_pay"],
        high=m["high"],
        high_pay=m["high_pay"],
    )


def _measure(text: str) -> str:
    count = text.removesuffix(" deals")
    return _fill(N_("%(count)s deals"), count=count) if count != text else text


def _curve_deal(m: _Match) -> str:
    said = _fill(
        N_(
            "%(credited)s of %(total)s credited; share of the curve payout %(payout)s (attainment %(attained)s, %(segment)s)"
        ),
        credited=_measure(m["credited"]),
        total=_measure(m["total"]),
        payout=m["payout"],
        attained=m["attained"],
        segment=_segment(m),
    )
    return f"{said} = {m['amount']}"


#: The forms of a deal's line, after its label (``CRM-1001 Vandelay: ``), tried in this order.
_DEAL_FORMS: tuple[tuple[re.Pattern[str], Callable[[_Match], str]], ...] = (
    (_TIERED, _tiered),
    (_DEAL_SIZE, _deal_size),
    (_OVERRIDE, _override),
    (_CURVE_DEAL, _curve_deal),
    (_PER_DEAL, _per_deal),
)


#: Lines about the period whose words translate whole: (pattern, message, what follows the message). The pattern's
#: named groups are the message's placeholders; ``{amount}`` after it stays as written (``: -19330.00``).
_PERIOD_FORMS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (_BONUS_PAID, N_("Attainment %(attained)s >= %(at)s: bonus %(pay)s"), ""),
    (_BONUS_MISSED, N_("Attainment %(attained)s < %(at)s: no bonus (%(pay)s at %(at)s)"), ""),
    (_PLAN_CAP, N_("Plan total capped at %(cap)s (earned %(earned)s)"), ": {amount}"),
    (_CAP, N_("%(component)s capped at %(cap)s (earned %(earned)s)"), ": {amount}"),
    (_DRAW_KEPT, N_("Draw %(draw)s: earnings %(earnings)s, top-up %(amount)s (non-recoverable)"), ""),
    (
        _DRAW,
        N_("Draw %(draw)s: earnings %(earnings)s, top-up %(amount)s (recoverable; balance now %(balance)s)"),
        "",
    ),
    (
        _DRAW_RECOVERY,
        N_(
            "Draw recovery: earnings %(earnings)s above the %(draw)s draw repay %(repaid)s of the %(balance_in)s"
            " balance (balance now %(balance)s)"
        ),
        "",
    ),
    (_CLAWBACK, N_("Clawback for %(period)s: deal %(deal)s cancelled on %(date)s: %(amount)s"), ""),
)


def _period_line(text: str) -> str | None:
    """A line about the period (no deal): bonus, curve, caps, draws, prior-period adjustments."""
    for pattern, message, after in _PERIOD_FORMS:
        if m := pattern.fullmatch(text):
            values = m.groupdict()
            return _fill(message, **values) + after.format(**values)
    if m := _CURVE.fullmatch(text):
        said = _fill(
            N_("Curve payout at attainment %(attained)s, %(segment)s"), attained=m["attained"], segment=_segment(m)
        )
        return f"{said} = {m['amount']}"
    return _adjustment(text)


_CHANGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"deal (?P<deal>.+)"), N_("deal %(deal)s")),
    (
        re.compile(r"quota change \((?P<metric>\w+): (?P<before>.+) → (?P<after>.+)\)"),
        N_("quota change (%(metric)s: %(before)s → %(after)s)"),
    ),
    (re.compile(r"plan assignment change \((?P<plan>.+)\)"), N_("plan assignment change (%(plan)s)")),
    (re.compile(r"campaign (?P<code>\S+) created"), N_("campaign %(code)s created")),
    (re.compile(r"campaign (?P<code>\S+) re-owned"), N_("campaign %(code)s re-owned")),
    (re.compile(r"exchange rates (?P<changes>.+)"), N_("exchange rates %(changes)s")),
)


def _change(what: str) -> str:
    """What changed a locked period, as a prior-period adjustment names it (the callers of
    ``adjustments.prior_period.book_locked_change``); a description in no known form as written."""
    for pattern, message in _CHANGES:
        if m := pattern.fullmatch(what):
            return _fill(message, **m.groupdict())
    return what


def _adjustment(text: str) -> str | None:
    """A prior-period adjustment the app books into an open period (a clawback is one of ``_PERIOD_FORMS``), and
    either of them with the draw balance it moved."""
    if m := _BALANCE_MOVE.fullmatch(text):
        line = _period_line(m["line"])
        if line is None:
            return None
        moved = _fill(N_("draw balance out of %(period)s: %(before)s → %(after)s"), **m.groupdict())
        return f"{line} ({moved})"
    if m := _PRIOR.fullmatch(text):
        return _fill(
            N_("Prior-period adjustment for %(period)s, %(what)s: %(amount)s"),
            period=m["period"],
            what=_change(m["what"]),
            amount=m["amount"],
        )
    return None


def _deal_line(text: str) -> str | None:
    """``label: body``: the label (the deal's id and name) kept, the body read by the first form it matches.
    A name may itself hold ``": "``: each split is tried, the shortest label first."""
    start = 0
    while (cut := text.find(": ", start)) > 0:
        body = text[cut + 2 :]
        for pattern, render in _DEAL_FORMS:
            if m := pattern.fullmatch(body):
                return f"{text[:cut]}: {render(m)}"
        start = cut + 2
    return None


def _translated(text: str) -> str | None:
    if m := _REVERSAL.fullmatch(text):
        line = _translated(m["line"]) or m["line"]
        return _fill(N_("Reverses: %(line)s (%(reason)s)"), line=line, reason=m["reason"])
    if m := _CONVERTED.fullmatch(text):
        line = _translated(m["line"])
        if line is None:
            return None
        converted = _fill(N_("(converted: %(amount)s at %(rate)s = %(converted)s)"), **m.groupdict())
        return f"{line} {converted}"
    return _period_line(text) or _deal_line(text)


def sentence_in_language(text: str) -> str:
    """A stored line sentence in the request's language; in English, or in a form not known, as stored."""
    if current_locale() == "en" or not text:
        return text
    return _translated(text) or text


def shown_sentence(text: str | None) -> str:
    """The ``sentence`` filter: a stored line sentence as a page shows it, in the page's language with its
    amounts grouped (``CRM-1001 Vandelay: 11,000.00 at 10% ...``)."""
    return group_amounts(sentence_in_language(text or ""))


def is_known_sentence(text: str) -> bool:
    """Whether ``text`` is in one of the forms the engine and the app write (what the tests check of every form)."""
    return _translated(text) is not None


__all__ = ["is_known_sentence", "sentence_in_language", "shown_sentence"]
