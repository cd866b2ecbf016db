"""SCIM 2.0 provisioning (RFC 7643/7644): identity providers create, update and deactivate people and teams."""
