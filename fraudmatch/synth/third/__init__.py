"""A third synthetic population, written blind to the matching rules.

Its people, councils and keying habits were designed from the data specification and the
match types in DESIGN.md alone, so that rules tuned on the first two populations meet data
whose habits they have not seen. `generate_third` writes one file per council and dataset,
complete truth (every pair a rule must flag, plus labelled hard negatives) and a manifest.
"""

from fraudmatch.synth.third.generate import generate_third

__all__ = ["generate_third"]
