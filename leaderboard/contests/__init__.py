"""Contests: time-boxed competitions on bookings, deals or sourced revenue, with their own board.

A contest runs over whole UTC days, ``starts_on`` to ``ends_on`` (both included): it starts
at 00:00 UTC of ``starts_on`` and ends at 00:00 UTC of the day after ``ends_on``. Deals carry
a close *date*, so a deal counts when ``starts_on <= closed_at <= ends_on``.

State is derived, never stored: cancelled (``status``), final (``closed_at``: the standings
were recorded), scheduled (before the start), running, ended (after the end, not yet
recorded).

Rules lock at the start: metric, mode, participants (scope and teams), window, currency and
prize can no longer change; name and description (typo fixes) stay editable until the end.
After the end nothing changes: the record is final. Only a scheduled contest can be cancelled.

Figures come from won deals in the window (cancelled ones drop out), credited as the rest of
the app credits deals: split holders by their share, else the owner; sourced revenue to the
owner of the deal's campaign. Never earnings: nothing here reads payouts or summaries.

The modules, by subject: ``rules`` (labels, time and state, who may see and edit), ``editing``
(the form, its validation, create, update, cancel), ``standings`` (figures, ranking, the board),
``results`` (recording the final standings and winners once).

Keyword-only service functions; the caller owns the transaction (``commissions.core.db.transaction``),
except ``results.ensure_recorded`` and ``results.record_due``, which open their own short ones (the lazy trigger of
a read, also behind ``results.visible_contest_recorded`` and ``visible_contests_recorded``, what the pages read).
"""
