"""Fixtures shared by every test package."""

from tests.databases import database_url, postgres_database

__all__ = ["database_url", "postgres_database"]
