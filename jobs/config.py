"""The base of every job's config: a frozen dataclass that crosses the controller/Spark
boundary as one JSON argument and is rebuilt (and so checked again) on the other side."""

import dataclasses
import json
from typing import Self

from jobs.errors import DrcError


def option(name: str) -> str:
    """The CLI flag of a config field: errors name what the user typed."""
    return "--" + name.replace("_", "-")


class JsonConfig:
    """Mixin for the config dataclasses: `to_json` / `from_json` and their dict forms."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> Self:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DrcError(cls.__name__, f"unknown settings {unknown}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_namespace(cls, namespace) -> Self:
        """From the CLI's parsed flags: the fields the namespace has, the rest defaulted."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in vars(namespace).items() if k in known})
