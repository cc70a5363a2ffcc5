"""What `kubectl get -o json` prints, shaped back into manifests (no kubectl runs here)."""

from __future__ import annotations

import copy
import json
from typing import Any

from devenv.check.direction_audit import audit_directions
from devenv.check.matrix import build_matrix
from devenv.render import render_manifests
from devenv.tools.kubectl import as_manifest, listed_objects
from devenv.topology.images import ImageSet
from devenv.topology.model import Topology


def as_served(manifest: dict[str, Any]) -> dict[str, Any]:
    """A manifest as the API server returns it: server metadata, status, last-applied."""
    served = copy.deepcopy(manifest)
    metadata = served["metadata"]
    metadata.update(uid="0d1c", resourceVersion="42", generation=1, managedFields=[{}])
    metadata.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = (
        json.dumps(manifest)
    )
    served["status"] = {"observedGeneration": 1}
    return served


def test_a_list_read_back_evaluates_as_the_rendered_manifests(
    topology: Topology, image_set: ImageSet
) -> None:
    rendered = render_manifests(topology, "dev", image_set)
    listing = {"apiVersion": "v1", "kind": "List", "items": [as_served(m) for m in rendered]}
    read = [as_manifest(obj) for obj in listed_objects(listing)]
    assert build_matrix(topology, read) == build_matrix(topology, rendered)
    assert audit_directions(topology, read) == []
    policy = next(o for o in read if o["kind"] == "NetworkPolicy")
    assert set(policy) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(policy["metadata"]) <= {"name", "namespace", "labels", "annotations"}
    assert "kubectl.kubernetes.io/last-applied-configuration" not in policy["metadata"].get(
        "annotations", {}
    )


def test_one_object_asked_for_by_name_is_printed_bare() -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "finops-data"}}
    assert listed_objects(namespace) == [namespace]
    assert listed_objects({"apiVersion": "v1", "kind": "List", "items": []}) == []
