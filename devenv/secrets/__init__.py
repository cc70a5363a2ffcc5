"""§6 secrets: everything that knows a secret's path, file or value.

Owns the secret-file contract shared by the renderers, the stubs and the checks
(``files``: mount, paths, agent templates), the dev values generated once and
kept in devenv's private state (``dev_values``), the OpenBao HTTP client
(``client``), reaching the environment's OpenBao (``connection``: an address or
a port-forward), the bootstrap (``bootstrap``), each entry and its version (``inventory``),
rotation (``rotation``), devenv's own dev CA
and the certificates it signs (``tls``), the dev CA cert-manager runs in the
cluster (``cluster_ca``: its certificate, for the host's clients) and keeping
every known value out of what devenv prints (``redaction``).

Must not: print or log a secret value, or put one in a process's arguments.
"""
