"""Reading the production files the way the tools do: compose.yaml (YAML merge keys resolved),
the Kubernetes overlay rendered like `kustomize build`, and the settings classes' variables."""
from __future__ import annotations

import copy
import importlib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = REPO / "deploy" / "production"
COMPOSE = PRODUCTION / "compose.yaml"
K8S = PRODUCTION / "k8s"
OVERLAY = K8S / "overlays" / "production"
SECRET_EXAMPLE = K8S / "secret.example.yaml"
SERVICES = ("membership", "welfare", "competitions", "notify")


def settings_variables(service: str) -> set[str]:
    """Every environment variable the service's settings class reads (its fields' aliases)."""
    settings = importlib.import_module(f"{service}.settings").Settings
    return {field.alias or name.upper() for name, field in settings.model_fields.items()}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


# ---- a kustomize-compatible build, for the features the overlay uses --------------------------
# kustomize itself is not packaged for Debian or PyPI; where `kubectl kustomize` is installed the
# tests check that this build gives the same objects.

def _merge(base, patch):
    """Strategic merge as kustomize does it for the fields used here: maps merge, lists of named
    maps (containers, env, ports, volumes) merge by name, other lists are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if (isinstance(base, list) and isinstance(patch, list) and patch
            and all(isinstance(i, dict) and "name" in i for i in base + patch)):
        out = [copy.deepcopy(i) for i in base]
        index = {item["name"]: n for n, item in enumerate(out)}
        for item in patch:
            if item["name"] in index:
                out[index[item["name"]]] = _merge(out[index[item["name"]]], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def _containers(obj: dict) -> list[dict]:
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if "template" in spec else {}
    return pod.get("containers", []) + pod.get("initContainers", [])


def _image_name(reference: str) -> str:
    """The image without its tag or digest, as kustomize's `images` match it."""
    head, _, last = reference.split("@")[0].rpartition("/")
    last = last.split(":")[0]
    return f"{head}/{last}" if head else last


def kustomize_build(folder: Path) -> list[dict]:
    config = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(config) - {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
    assert not unknown, f"{folder}: this build does not know {sorted(unknown)}"
    objects: list[dict] = []
    for resource in config.get("resources", []):
        path = (folder / resource).resolve()
        objects += kustomize_build(path) if path.is_dir() else load_all(path)
    for entry in config.get("patches", []):
        patches = load_all(folder / entry["path"]) if "path" in entry else [yaml.safe_load(entry["patch"])]
        for patch in patches:
            targets = [n for n, o in enumerate(objects)
                       if o["kind"] == patch["kind"] and o["metadata"]["name"] == patch["metadata"]["name"]]
            assert len(targets) == 1, f"patch for {patch['kind']}/{patch['metadata']['name']} matches {len(targets)}"
            objects[targets[0]] = _merge(objects[targets[0]], patch)
    for image in config.get("images", []):
        for obj in objects:
            for container in _containers(obj):
                if _image_name(container["image"]) == image["name"]:
                    new_name = image.get("newName", image["name"])
                    container["image"] = f"{new_name}:{image['newTag']}" if "newTag" in image else new_name
    if "namespace" in config:
        for obj in objects:
            obj["metadata"]["namespace"] = config["namespace"]
    return objects


def by_kind_and_name(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}
