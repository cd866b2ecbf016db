"""Custom deal fields: what an admin declares (name and type) so plan conditions can use it.

``service`` declares and lists fields and checks a deal's values against their types;
``pages`` is the admin page, ``api`` is ``GET``/``POST /api/v1/custom-fields``; ``cli`` is
``commissions field add|list``. See docs/deals-and-statements.md, "Custom deal fields".
"""
