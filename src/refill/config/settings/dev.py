"""The demo and local development: SQLite in ./var, demo logins allowed."""

from .base import *  # noqa: F403
from .base import env_bool

REFILL_DEMO = env_bool("REFILL_DEMO", True)
