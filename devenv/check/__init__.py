"""Stage 3, offline verification of rendered manifests: no cluster needed.

Owns the network peers a connection can go from or to (``peers``), what the
zone rules intend (``zone_rules``), the NetworkPolicy evaluator (``netpol``),
the connectivity matrix that sets the two side by side (``matrix``), the
invariants every environment keeps (``invariants``) and the Kubernetes 1.34
schema check (``kubernetes_schema``).

Must not: start processes or talk to a cluster; what runs live is ``verify``.
"""
