"""Single sign-on with OpenID Connect: providers an admin configures, and signing in with them."""
