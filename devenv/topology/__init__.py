"""Stage 1, the model: what the environment is, as validated, frozen data.

Owns the topology file's schema and the resolved view (``model``), loading and
cross-checking a file with errors that point to the key (``loader``), each
container's and namespace's sizing (``sizing``, ``quantity``) and which image
each part runs (``images``: the pinned catalog and the user's overrides).

Must not: render manifests, start processes or talk to a cluster. Everything
here is pure apart from reading the files it is given.
"""
