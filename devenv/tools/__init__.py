"""The only code that starts processes or talks to the cluster: one subprocess
wrapper and one wrapper per external program.

Owns ``process`` (argument lists, the program found in devenv's own environment
first, errors with the command and its stderr), ``kubectl``, ``kind`` and
``docker`` (argument builders and the few operations devenv needs), loading
images into k3d and minikube (``local_clusters``), the local registry
(``registry``), the stub image builder (``build``), the installer of
pinned, checksum-verified kind and kubectl releases (``install``), the files
of a pinned release from the Go module proxy, checked against the checksum
database's hash (``go_module``: cert-manager's CRDs), and what an
image tag points to now, asked of its registry over HTTP (``registry_api``),
and reads from the API server without a kubectl process where the kubeconfig's
credentials are plain data (``kube_api``, used by ``kubectl``'s listings), and
from the Docker engine over its local socket (``docker_api``, used by
``docker``'s inspections).

Must not: decide what to deploy. Callers (``apply``, ``verify``) say what; these
modules say how, and tests fake them at their methods.
"""
