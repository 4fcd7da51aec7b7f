"""The experiments, one module each, every one a function of a :class:`~ssb.resolver.Resolver` and a system
name (``ssb/systems.py``): ``heads`` (Table 1, Fig. 3), ``nodes`` (Fig. 4), ``depth`` (§7), ``fewrel``
(Figs. 5-6) and ``variants`` (symmetric initialisation); ``common`` holds the token sweep they share.
Each returns a JSON-ready dict, cached in the artifact store; the measures (``ssb/measures/``) read it."""
