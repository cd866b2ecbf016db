"""Slack and Microsoft Teams channels: which events make a message, and the messages (pure functions).

A chat channel is a subscription of kind ``slack`` or ``teams`` (``models/outbound.py``): it shares the outbox,
the fan-out, the retries and the delivery log of outbound webhooks. Only four kinds of event reach a channel
(``CHAT_EVENTS``), and a message is built from the event's ``data`` alone: an event's ``pay`` part is never
read here, so a channel never sees pay. The deliveries of a channel that are due together become one message
(``render``): one line for a single event, a count and the first few for many ("12 deals won: …, and 7 more").

- Slack: Block Kit, ``{"text": fallback, "blocks": [...]}``, text escaped for mrkdwn (``& < >``).
- Teams: an Adaptive Card (1.4) in a message, as a Teams Workflows ("Post to a channel when a webhook request
  is received") or a legacy incoming webhook expects it; text escaped for the card's Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import SplitResult, urlsplit

from commissions.core.errors import InputProblem
from commissions.core.formatting import format_measure
from commissions.core.i18n import N_
from commissions.core.money import to_minor
from commissions.outbound.addresses import refusal

CHAT_KINDS = ("slack", "teams")
#: The events a channel may pick, with the words of the admin page.
CHAT_EVENTS: dict[str, str] = {
    "deal.recorded": N_("A deal is won (a new won deal)"),
    "badge.granted": N_("A badge is granted"),
    "contest.ended": N_("A contest ends (its winners)"),
    "tier.crossed": N_("A rep passes 100%% of quota"),
}
LISTED = 5  # lines shown in a grouped message before "and N more"
MAX_TEXT = 200  # characters of one name or title
SLACK_HOSTS = ("hooks.slack.com",)
TEAMS_HOST_SUFFIXES = (".webhook.office.com", ".logic.azure.com", ".powerautomate.com", ".powerplatform.com")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_URL = 2000


def split_url(url: str, *, missing: str) -> tuple[SplitResult, str]:
    """The parts and lower-case host of a URL deliveries may go to (subscriptions and chat channels alike):
    present, at most ``MAX_URL`` long, http(s) with a host, and no user name or password in it."""
    if not url:
        raise InputProblem("url", missing)
    if len(url) > MAX_URL:
        raise InputProblem("url", f"the url is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        raise InputProblem("url", f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise InputProblem("url", f"{url!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise InputProblem("url", "put no user name or password in the url: deliveries are signed instead")
    if (reason := refusal(host)) is not None:
        raise InputProblem("url", reason)
    return parts, host


Event = tuple[str, Mapping[str, Any]]  # (type, data): never the event's pay


# --- the incoming-webhook URL --------------------------------------------------------------------------------


def _host_allowed(kind: str, host: str) -> bool:
    if kind == "slack":
        return host in SLACK_HOSTS
    return any(host.endswith(suffix) for suffix in TEAMS_HOST_SUFFIXES)


def is_chat_host(host: str) -> bool:
    """Whether ``host`` is a Slack or Teams incoming webhook's (the hosts ``check_webhook_url`` accepts), in any
    case and with or without the final dot of a fully qualified name: a receiver that must never see pay."""
    host = host.lower().rstrip(".")
    return host in SLACK_HOSTS or any(
        host.endswith(suffix) or host == suffix.lstrip(".") for suffix in TEAMS_HOST_SUFFIXES
    )


def check_webhook_url(kind: str, url: str, *, allow_http: bool) -> str:
    """The URL if it is an incoming webhook of ``kind``: https to Slack's or Microsoft's hosts; a local host
    (tests, a relay on this machine) over http too, and any host when ``OUTBOUND_ALLOW_HTTP`` is on."""
    if kind not in CHAT_KINDS:
        raise InputProblem("kind", f"a chat channel is {' or '.join(CHAT_KINDS)}, not {kind!r}")
    url = url.strip()
    example = (
        "https://hooks.slack.com/services/T000/B000/XXXX"
        if kind == "slack"
        else "https://prod-00.westeurope.logic.azure.com/workflows/…"
    )
    parts, host = split_url(url, missing=f"paste the channel's incoming-webhook URL, e.g. {example}")
    if host in LOCAL_HOSTS or allow_http:
        return url
    if parts.scheme != "https":
        raise InputProblem("url", "an incoming webhook is https only")
    if not _host_allowed(kind, host):
        where = (
            "hooks.slack.com"
            if kind == "slack"
            else "*.webhook.office.com, *.logic.azure.com, *.powerautomate.com or *.powerplatform.com"
        )
        raise InputProblem("url", f"a {kind.capitalize()} incoming webhook is on {where}, not {host}")
    return url


def shown_url(url: str) -> str:
    """What the pages show of an incoming-webhook URL (a credential): its scheme and host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"


# --- which events make a message, in words -------------------------------------------------------------------


def worthy(type: str, data: Mapping[str, Any]) -> bool:
    """Whether the event makes a chat message: a new won deal (not an update), a badge, a contest's end, quota."""
    if type == "deal.recorded":
        return data.get("status") == "won" and data.get("outcome") == "created"
    return type in CHAT_EVENTS


def _clip(text: object) -> str:
    value = " ".join(str(text or "").split())
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"


def _who(email: object, names: Mapping[str, str]) -> str:
    key = str(email or "").lower()
    return _clip(names.get(key) or key.split("@", 1)[0] or "someone")


def _amount(data: Mapping[str, Any]) -> str:
    currency = str(data.get("currency") or "")
    try:
        return format_measure(to_minor(Decimal(str(data.get("amount"))), currency), "bookings", currency)
    except (InvalidOperation, ValueError, TypeError):
        return ""


def _and(names: Sequence[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def line_of(type: str, data: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One event in words (plain text, not escaped). ``names``: display names by lower-cased email."""
    if type == "deal.recorded":
        amount = _amount(data)
        deal = _clip(data.get("name") or data.get("external_id"))
        return f"{_who(data.get('owner'), names)} closed {deal}" + (f", {amount}" if amount else "")
    if type == "badge.granted":
        return f"{_who(data.get('person'), names)} earned {_clip(data.get('name') or data.get('badge'))}"
    if type == "contest.ended":
        winners = [_clip(w) for w in data.get("winners") or []]
        title = _clip(data.get("name"))
        if not winners:
            return f"{title} ended"
        verb = "won" if len(winners) == 1 else "won it together" if len(winners) == 2 else "share the win"
        return f"{title} ended: {_and(winners[:LISTED])}{' and others' if len(winners) > LISTED else ''} {verb}"
    if type == "tier.crossed":
        return f"{_who(data.get('person'), names)} passed 100% of quota"
    raise ValueError(f"{type!r} makes no chat message")


_HEADINGS = {
    "deal.recorded": ("deal won", "deals won"),
    "badge.granted": ("badge earned", "badges earned"),
    "contest.ended": ("contest ended", "contests ended"),
    "tier.crossed": ("rep passed quota", "reps passed quota"),
}
_ICONS = {"deal.recorded": "🎉", "badge.granted": "🏅", "contest.ended": "🏆", "tier.crossed": "🚀"}


def groups(events: Sequence[Event], names: Mapping[str, str]) -> list[tuple[str, str, list[str], int]]:
    """(type, heading, listed lines, how many more) per event type, in ``CHAT_EVENTS`` order; the heading is
    empty for a single event."""
    by_type: dict[str, list[str]] = {}
    for type, data in events:
        by_type.setdefault(type, []).append(line_of(type, data, names))
    found = []
    for type in CHAT_EVENTS:
        lines = by_type.get(type)
        if not lines:
            continue
        if len(lines) == 1:
            found.append((type, "", lines, 0))
        else:
            one, many = _HEADINGS[type]
            found.append(
                (type, f"{len(lines)} {one if len(lines) == 1 else many}", lines[:LISTED], len(lines) - LISTED)
            )
    return found


def fallback_text(events: Sequence[Event], names: Mapping[str, str]) -> str:
    """The whole message on one line per type, plain: "12 deals won: Ana closed Initech, 80,000.00 USD; …; and
    7 more"."""
    parts = []
    for type, heading, lines, more in groups(events, names):
        text = "; ".join(lines) + (f"; and {more} more" if more > 0 else "")
        parts.append(f"{_ICONS[type]} {heading}: {text}" if heading else f"{_ICONS[type]} {text}")
    return "\n".join(parts)


# --- Slack ---------------------------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters (&, <, >) as entities, so a name cannot link, mention or format."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(events: Sequence[Event], names: Mapping[str, str]) -> dict[str, Any]:
    """A Block Kit message: ``text`` (the notification's fallback) and a section per event type."""
    blocks: list[dict[str, Any]] = []
    for type, heading, lines, more in groups(events, names):
        if heading:
            body = f"{_ICONS[type]} *{slack_escape(heading)}*\n" + "\n".join(f"• {slack_escape(x)}" for x in lines)
            if more > 0:
                body += f"\n…and {more} more"
        else:
            body = f"{_ICONS[type]} {slack_escape(lines[0])}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
    return {"text": slack_escape(fallback_text(events, names)), "blocks": blocks}


# --- Teams ---------------------------------------------------------------------------------------------------

_TEAMS_SPECIAL = re.compile(r"([\\`*_\[\]])")  # emphasis, code and links: what a TextBlock formats inline


def teams_escape(text: str) -> str:
    """The Markdown characters of an Adaptive Card's TextBlock backslash-escaped, so a name stays plain text."""
    return _TEAMS_SPECIAL.sub(r"\\\1", text)


def _text_block(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def teams_message(events: Sequence[Event], names: Mapping[str, str]) -> dict[str, Any]:
    """An Adaptive Card 1.4 in a message: a TextBlock per event, a bold heading and a count for a group."""
    body: list[dict[str, Any]] = []
    for type, heading, lines, more in groups(events, names):
        if heading:
            body.append(_text_block(f"{_ICONS[type]} {teams_escape(heading)}", weight="Bolder", size="Medium"))
            body.extend(_text_block(teams_escape(x), spacing="Small") for x in lines)
            if more > 0:
                body.append(_text_block(f"and {more} more", isSubtle=True, spacing="Small"))
        else:
            body.append(_text_block(f"{_ICONS[type]} {teams_escape(lines[0])}"))
    return _teams_card(body)


def _teams_card(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }
        ],
    }


def render(kind: str, events: Sequence[Event], names: Mapping[str, str]) -> dict[str, Any]:
    """The message for a channel of ``kind`` announcing ``events`` (type and data; never pay)."""
    return slack_message(events, names) if kind == "slack" else teams_message(events, names)


TEST_TEXT = "Quotaboard is connected: the wins, badges, contests and quota passes chosen for this channel appear here."


def hello_message(kind: str, name: str) -> dict[str, Any]:
    """The "Send a test message" button's message."""
    text = f"👋 {TEST_TEXT}" + (f" ({name})" if name else "")
    if kind == "slack":
        escaped = slack_escape(text)
        return {"text": escaped, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": escaped}}]}
    return _teams_card([_text_block(teams_escape(text))])
