"""The audit log's pages (finance and admin read who did what); events are written by commissions.core.audit."""
