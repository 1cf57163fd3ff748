"""The one error type `python -m provision` turns into a single clear line (provision stands
alone: it imports nothing from jobs/)."""


class ProvisionError(Exception):
    """A provisioning failure: names the node, cluster or setting, and what went wrong."""

    def __init__(self, where: object, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = str(where), reason
