"""The team pulse: a one-question eNPS survey a manager runs for their team, anonymous below a minimum group size."""
