"""The core every area stands on: settings, the database and transactions, money, errors, the period concept, the principal and guards, page-or-partial rendering, the audit log writer."""
