"""Deterministic sample access logs of the Scaling API, and the ground truth about them.

Why this exists: triage needs input that exercises every log shape and every failure that
shared/reference/scaling-api.md (sections 2-6) describes, and its tests need ground truth.
So the generator writes the logs *and* a manifest of what it wrote (line counts, planted bad
lines, scenarios, planted secrets), computed by re-reading the bytes it wrote rather than
estimated.

Everything derives from one seeded ``random.Random``: no global random state and no wall
clock, so ``python sample_logs/generate.py`` rewrites the committed sample byte-identically.
Standard library only. The order of the draws from that one generator is part of the output:
a change that moves a draw changes every byte after it.

One concern a module; sample_logs/README.md lists them lower first, and a module imports only
from modules listed before it.
"""
