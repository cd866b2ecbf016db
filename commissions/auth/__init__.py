"""Who is asking: passwords, sessions, API tokens, the request principal and role guards."""
