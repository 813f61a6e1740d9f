"""Constants the tests share: the test market's id and defaults, the contracts' role ids and the
contracts' own fixed numbers, stated here independently of the reference model so the tests check them.

Enums and struct shapes come from `levtoken.shapes`, units from `levtoken.units`.
"""

from __future__ import annotations

from eth_utils import keccak

from levtoken.governance import TOKEN_ROLES
from levtoken.shapes import ZERO_ADDRESS, MarketConfig

# The test venue's one market (listed first, so id 1), its feed's first price and default heartbeat.
BTC = 1
INITIAL_PRICE = 30_000
HEARTBEAT = MarketConfig.defaults(ZERO_ADDRESS).heartbeat

# A deadline no test reaches.
FAR = 2**63

# AccessControl role ids (a token's, as levtoken.governance names them).
ADMIN_ROLE, KEEPER_ROLE, GUARDIAN_ROLE = TOKEN_ROLES["admin"], TOKEN_ROLES["keeper"], TOKEN_ROLES["guardian"]
UPDATER_ROLE = keccak(text="UPDATER_ROLE")

# The contracts' own numbers.
VIRTUAL_SHARES = 10**12  # LeveragedToken: virtual shares against the inflation attack
VIRTUAL_LP_SHARES = 10**12  # PerpVenue: the same for the LP pool
UNIT = 10**30  # size (1e18) * price (1e18) / UNIT = 6-decimal collateral units
