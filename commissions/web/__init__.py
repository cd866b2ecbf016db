"""The web app: app factory, page rendering helpers, errors, navigation, static files."""
