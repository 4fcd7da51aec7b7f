"""The format versions that join store keys, in one place (each names the kinds whose keys it joins).

Two mechanisms version the store, and this module is the first:

- a *format* version here says what an entry holds or how its key is made; raising one re-keys every
  entry of its kind (and, through the keys that embed them, those built from it). They predate
  ``ssb/codekeys.json`` and stay where they are so that the keys of the committed artifacts stand;
- a *code* version per kind in ``ssb/codekeys.json`` (``python -m ssb.codekeys``) says that the code
  that builds the kind changed what it builds. Raise that one for a change of the building code.

Each constant names the kind whose key it joins; a kind not listed here has no format version.
"""

from __future__ import annotations

# token-sweep and fewrel-sweep: a sweep's stored summary (4: zero_diagonal_fraction; 5: one entry a group;
# 6: the zero-diagonal column share)
SWEEP = 6
# token-features, validation split (2: each position's paragraph stored; 3: no probe seed in the key, as
# masking one token at a time draws nothing: every seed run reads the same validation features)
VALID_FEATURES = 3
# fewrel-features (2: sentences batched shortest first, which moves the vectors by float rounding)
CLS_FEATURES = 2
HEAD_CORRECTNESS = 1  # head-correctness: the four counts of hidden-correlations
HEAD_CONFUSION = 1  # head-confusion: one head's confusion block
# token-probe of a control system: what its key adds to the reference recipe's
CONTROL_TASK = "control-task-1"  # how a control task's labels are drawn
TIED_PROBE = "tied-1"  # how a tied probe's heads' blocks are tied
