"""Time units in microseconds, and the array helpers the simulation and the writer share."""

import numpy as np

millisecond_us = 1_000
second_us = 1_000_000
minute_us = 60 * second_us
hour_us = 60 * minute_us
day_us = 24 * hour_us


def weighted_codes(weights: np.ndarray, draw: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(weights) / weights.sum()
    return np.minimum(np.searchsorted(cumulative, draw, side="right"), len(weights) - 1).astype(np.int8)


def weighted_pick(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    return weighted_codes(weights, rng.random(n))


def pick_per_group(
    rng: np.random.Generator, options: dict[str, tuple[str, ...]], group: np.ndarray,
    keys: tuple[str, ...], values: dict[str, int],
) -> np.ndarray:
    """Uniform choice among options[keys[g]] for each row's group g, as codes from values."""
    width = max(len(o) for o in options.values())
    table = np.zeros((len(keys), width), np.int8)
    lengths = np.zeros(len(keys), np.int64)
    for i, key in enumerate(keys):
        table[i, : len(options[key])] = [values[o] for o in options[key]]
        lengths[i] = len(options[key])
    group = group.astype(np.int64)
    return table[group, (rng.random(len(group)) * lengths[group]).astype(np.int64)]


def take(piece: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {key: values[rows] for key, values in piece.items()}


def concat(pieces: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([piece[key] for piece in pieces]) for key in pieces[0]}
