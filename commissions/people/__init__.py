"""People and teams: creating accounts, the reporting tree, who may see whom."""
