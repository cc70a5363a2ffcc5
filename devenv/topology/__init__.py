"""Stage 1, the model: what the environment is, as validated, frozen data.

Owns the topology file's schema and the resolved view (``model``), loading and
cross-checking a file with errors that point to the key (``loader``), each
container's and namespace's sizing (``sizing``, ``quantity``), how long
certificates live (``lifetime``), which image each
part runs (``images``: the pinned catalog and the user's overrides), what the
model implies for the network (``peers``: the pods and pseudo-endpoints a
connection can go from or to; ``intent``: the §5.2 zone rules as flows) and
every label and annotation name (``labels``).

Must not: render manifests, start processes or talk to a cluster. Everything
here is pure apart from reading the files it is given.
"""
