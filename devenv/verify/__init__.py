"""Stage 5, proof on the live environment.

Owns ``environment`` (is there one to look at: asked before anything runs),
``status`` and ``logs`` (what runs, through the API server), the injection
check behind ``devenv secrets check`` (``injection``), the comparison of a
probed policy matrix with the static one (``live_matrix``, pure) and the pytest
suite that ``devenv test-integration`` runs (``suite``).

Must not: change the environment, except the drills of the suite, which put
back what they take away.
"""
