"""Providers by name. Each one is built from the environment's credentials, the cluster's
settings (`spec`: a NodeSpec) and its inventory directory (`cluster_dir`: where a key made
for the cluster is kept)."""

from pathlib import Path

from provision.errors import ProvisionError
from provision.providers.base import Provider

REPO = Path(__file__).resolve().parents[2]


def _local(options: dict) -> Provider:
    from provision.providers.local import LocalProvider

    return LocalProvider(Path(options.get("state_root") or REPO / ".cluster" / "local"))


def _softlayer(options: dict) -> Provider:
    from provision.providers.softlayer import SoftLayerProvider

    return SoftLayerProvider.from_env(options.get("spec"), options.get("cluster_dir"))


def _aws(options: dict) -> Provider:
    from provision.providers.aws import AwsProvider

    return AwsProvider.from_env(options.get("spec"), options.get("cluster_dir"))


PROVIDERS = {"local": _local, "softlayer": _softlayer, "aws": _aws}


def get_provider(name: str, **options) -> Provider:
    if name not in PROVIDERS:
        raise ProvisionError("provider", f"{name!r} is not one of {', '.join(PROVIDERS)}")
    return PROVIDERS[name](options)
