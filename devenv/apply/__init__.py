"""Stage 4, making the environment real: ``up``, ``down``, compose and doctor.

Owns the phase engine (``engine``: the run context, content hashes, the drift
check, skip decisions), what `up` records per context (``record``), waiting
for the cluster (``waiting``: one polling helper, readiness and its
evidence), the addresses only a running
environment knows (``addresses``: its nodes, its simulators), how images held
here reach the cluster (``image_routes``), one module per phase in the order
they run (``phases``), ``up`` (building images and rendering once, then the
phases), ``down`` (exactly what ``up`` created), ``compose`` (the same
environment under docker compose), ``doctor`` (is this machine ready) and
``pin`` (the catalog's digests re-resolved where a registry is reachable).

Must not: build manifests by hand (``render`` does) or run a program except
through ``tools``.
"""
