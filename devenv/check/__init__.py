"""Stage 3, offline verification of rendered manifests: no cluster needed.

Owns the peers found in rendered workloads (``workload_peers``), the
NetworkPolicy evaluator (``netpol``), the connectivity matrix that sets what the
policies allow beside what the zone rules intend (``matrix``), each direction
held against the zone rules on its own (``direction_audit``), the invariants
every environment keeps (``invariants``), the Kubernetes 1.34 schema check
(``kubernetes_schema``) and manifests a user gives, checked as the API server
would before they are evaluated (``user_manifests``).

Must not: start processes or talk to a cluster; what runs live is ``verify``.
"""
