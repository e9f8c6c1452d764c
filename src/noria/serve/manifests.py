"""Kubernetes manifests for an exported model server (``noria export docker --k8s``).

Three files under ``k8s/``, applied with ``kubectl apply -f k8s/``:

``deployment.yaml``
    ``apps/v1`` Deployment of the image: two replicas; the token from a Secret
    (``<name>-token``, key ``token``) as ``NORIA_TOKEN``; a startup probe and a liveness probe
    on ``/health``, a readiness probe on ``/ready`` (503 until the model is loaded); CPU and
    memory requests and limits; non-root (uid 10001), no privilege escalation, every
    capability dropped, the runtime's default seccomp profile.
``service.yaml``
    a ClusterIP Service: port 80 to the container's ``http`` port.
``hpa.yaml``
    an ``autoscaling/v2`` HorizontalPodAutoscaler: 2 to 10 replicas at 70 % of the CPU
    request.

The Secret itself is not written (a manifest is no place for a secret): create it with
``kubectl create secret generic <name>-token --from-literal=token=...``. Names are DNS labels
made from the model name (``noria-`` and the name in lower case, other characters as ``-``).
Not here: the build context (:mod:`noria.serve.export`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["kubernetes_manifests", "resource_name", "write_manifests"]

#: Requests and limits of the server container; edit the manifest to size them to the model.
RESOURCES = {
    "requests": {"cpu": "500m", "memory": "512Mi"},
    "limits": {"cpu": "2", "memory": "2Gi"},
}


def resource_name(model: str) -> str:
    """A DNS-1035 label for the model's resources: ``noria-`` and the name, at most 57 chars.

    57 leaves room for the ``-token`` of the Secret's name within the 63 of a label.
    """
    slug = re.sub(r"[^a-z0-9-]+", "-", model.lower()).strip("-") or "model"
    return f"noria-{slug}"[:57].rstrip("-")


def kubernetes_manifests(
    *,
    model_name: str,
    version: int,
    image: str,
    port: int = 8000,
    uid: int = 10001,
    replicas: int = 2,
    max_replicas: int = 10,
) -> dict[str, dict[str, Any]]:
    """The Deployment, Service and HorizontalPodAutoscaler, by file name (see the docstring)."""
    name = resource_name(model_name)
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": "model-server",
        "app.kubernetes.io/part-of": "noria",
        "app.kubernetes.io/version": str(version),
    }
    selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "model-server"}
    probe = {"port": "http", "scheme": "HTTP"}
    container = {
        "name": "server",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [
            {
                "name": "NORIA_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": f"{name}-token", "key": "token"}},
            }
        ],
        "resources": RESOURCES,
        # loading a large model can take a while: liveness starts once /health answers
        "startupProbe": {
            "httpGet": {"path": "/health", **probe},
            "periodSeconds": 2,
            "failureThreshold": 60,
            "timeoutSeconds": 2,
        },
        "readinessProbe": {
            "httpGet": {"path": "/ready", **probe},
            "periodSeconds": 5,
            "failureThreshold": 3,
            "timeoutSeconds": 2,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", **probe},
            "periodSeconds": 10,
            "failureThreshold": 3,
            "timeoutSeconds": 3,
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": uid,
                        "runAsGroup": uid,
                        "fsGroup": uid,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": replicas,
            "maxReplicas": max(max_replicas, replicas),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }
    return {"deployment.yaml": deployment, "service.yaml": service, "hpa.yaml": hpa}


def write_manifests(folder: Path, **kwargs: Any) -> list[Path]:
    """Write :func:`kubernetes_manifests` as YAML files in ``folder``; their paths."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, doc in kubernetes_manifests(**kwargs).items():
        path = folder / file_name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        written.append(path)
    return written
