"""The subject-level train/validation split, in plain Python: the same rows as the Spark
SQL expression `sql_condition` (used by the LR jobs, Scala's included), so the CNN
and the logistic regression validate on the same patients. Spark's hash is Murmur3
x86_32 with seed 42, chained over the columns (both int32 here)."""

SPLIT_BUCKETS = 1000
SPARK_HASH_SEED = 42  # Murmur3 seed of Spark SQL hash(), not the split seed
DEFAULT_SEED = 42
DEFAULT_FRACTION = 0.2
_MASK = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def _hash_int(value: int, seed: int) -> int:
    k1 = (value & _MASK) * 0xCC9E2D51 & _MASK
    k1 = _rotl(k1, 15) * 0x1B873593 & _MASK
    h1 = _rotl((seed & _MASK) ^ k1, 13)
    h1 = (h1 * 5 + 0xE6546B64) & _MASK
    h1 ^= 4
    h1 ^= h1 >> 16
    h1 = h1 * 0x85EBCA6B & _MASK
    h1 ^= h1 >> 13
    h1 = h1 * 0xC2B2AE35 & _MASK
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 & 0x80000000 else h1  # Java's signed int


def spark_hash(*ints: int) -> int:
    """Spark SQL `hash(a, b, ...)` of int columns."""
    h = SPARK_HASH_SEED
    for value in ints:
        h = _hash_int(value, h)
    return h


def is_validation(subject: int, fraction: float, seed: int) -> bool:
    return spark_hash(subject, seed) % SPLIT_BUCKETS < round(fraction * SPLIT_BUCKETS)


def held_out(subject: int | None, seed: int = DEFAULT_SEED) -> bool:
    """On the held-out side of the default split (a subject-less image never is)."""
    return subject is not None and is_validation(subject, DEFAULT_FRACTION, seed)


def sql_condition(fraction: float, seed: int) -> str:
    """The same split as a Spark SQL condition, true on the validation side."""
    threshold = int(round(fraction * SPLIT_BUCKETS))
    return f"pmod(hash(subject, {int(seed)}), {SPLIT_BUCKETS}) < {threshold}"
