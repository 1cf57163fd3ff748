"""The one error type the CLI turns into a single clear line."""


class DrcError(Exception):
    """A user-facing failure: names the path (or thing) and what is wrong with it."""

    def __init__(self, where: object, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where = str(where)
        self.reason = reason
