"""The demo and local development: SQLite in ./var, demo logins allowed."""

from .base import *  # noqa: F403
from .base import env_bool

REFILL_DEMO = env_bool("REFILL_DEMO", True)

# The bundled SM-DP+ simulator (started by `refill up`) calls back with this token.
REFILL_SMDP = {**REFILL_SMDP, "CALLBACK_TOKEN": REFILL_SMDP["CALLBACK_TOKEN"] or "smdp-simulator-demo-token"}  # noqa: F405
# Start tools/smdp_sim.py with `refill up` when REFILL_SMDP_URL is left at the loopback default.
REFILL_SMDP_SIMULATOR = env_bool("REFILL_SMDP_SIMULATOR", True)
