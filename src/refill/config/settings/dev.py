"""The demo and local development: SQLite in ./var, demo logins allowed."""

from .base import *  # noqa: F403
