"""A fourth synthetic population, written blind to the matching rules.

Its councils (Scottish, Northern Irish, English metropolitan and east London), the naming
customs of the communities they serve, their systems' export habits and gaps were designed
from the data specification and the rules' meaning alone, so that rules tuned on the first
three populations meet habits they have not seen. `generate_fourth` writes one file per
council and dataset, complete truth (every pair a rule must flag, and labelled hard
negatives) and a manifest.
"""

from fraudmatch.synth.fourth.generate import generate_fourth

__all__ = ["generate_fourth"]
