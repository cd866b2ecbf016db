"""Revenue marketing: lead lifecycle events, the metrics and their dashboard, the team pulse (eNPS)."""
