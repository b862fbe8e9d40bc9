"""Tests of the SQL layer and SQL-backed stores, each on SQLite and PostgreSQL."""
