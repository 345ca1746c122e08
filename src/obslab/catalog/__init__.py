"""Catalog: observations, parameter schema, change requests, sign-off and duty roster."""
