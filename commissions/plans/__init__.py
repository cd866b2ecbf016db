"""Compensation plans in the app: versions of plan documents, who is on which plan when, admin pages, `plan apply`."""
