"""Stage 3, offline verification of rendered manifests: no cluster needed.

Owns the peers found in rendered workloads (``workload_peers``), the
NetworkPolicy evaluator (``netpol``), the connectivity matrix that sets what the
policies allow beside what the zone rules intend (``matrix``), the invariants
every environment keeps (``invariants``) and the Kubernetes 1.34 schema check
(``kubernetes_schema``).

Must not: start processes or talk to a cluster; what runs live is ``verify``.
"""
