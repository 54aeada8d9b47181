"""The account-level fake-account model: a probability that an account is bought or automated, from
features any account shows publicly.

The inputs are the eight public-profile columns every platform exposes (and that the public fake-account
datasets use): followers, following, posts, avatar, private, bio length, username length and digits in
the username. They are turned into scale-free features (logs and ratios) and read by an L2-regularised
logistic regression fitted by Newton's method: small, deterministic, and each prediction decomposes into
per-feature contributions, which become the reasons. The shipped weights (``fake_accounts.json``) are
fitted on the simulator's labelled accounts by ``zhongcao creators train-accounts``; the same command
refits them on real labelled accounts, which is how the model carries over to a real platform.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from zhongcao.core import Invalid

COLUMNS = ("follower_count", "following_count", "media_count", "has_profile_pic", "is_private",
           "biography_length", "username_length", "username_digit_count")
SHIPPED = Path(__file__).with_name("fake_accounts.json")

# (name, plain words for a reason). Each feature grows in the direction of "fake", so a reason is named
# only when the account sits on that side of the average and the fitted weight agrees.
FEATURES: tuple[tuple[str, str], ...] = (
    ("few_followers", "few followers"),
    ("log_following", "follows very many accounts"),
    ("few_posts", "posts little or nothing"),
    ("following_per_follower", "follows far more accounts than follow it"),
    ("no_avatar", "no profile picture"),
    ("private", "private account"),
    ("short_bio", "short or empty bio"),
    ("username_length", "long generated-looking username"),
    ("digit_share", "username is mostly digits"),
)


def features(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """(n, len(FEATURES)) float64 from the eight public columns (arrays of equal length)."""
    def col(name: str) -> np.ndarray:
        return np.maximum(np.asarray(columns[name], dtype=np.float64), 0)
    followers, following, name_len = col("follower_count"), col("following_count"), col("username_length")
    digits = np.minimum(col("username_digit_count"), name_len)
    return np.column_stack([
        -np.log1p(followers), np.log1p(following), -np.log1p(col("media_count")),
        np.log1p(following) - np.log1p(followers), 1.0 - col("has_profile_pic").clip(0, 1),
        col("is_private").clip(0, 1), -np.log1p(col("biography_length")), np.minimum(name_len, 30.0),
        digits / np.maximum(name_len, 1),
    ])


@dataclass(frozen=True)
class Model:
    mean: np.ndarray    # feature standardisation
    scale: np.ndarray
    weights: np.ndarray  # on standardised features
    bias: float
    trained_on: str

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probability each row is fake."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.logits(x), -50, 50)))

    def reasons(self, x: np.ndarray, top: int = 3) -> list[list[str]]:
        """Per row, the features that push it towards fake the most, in plain words (strongest first)."""
        push = np.where(self.weights > 0, ((x - self.mean) / self.scale) * self.weights, 0.0)
        order = np.argsort(-push, axis=1, kind="stable")[:, :top]
        return [[FEATURES[j][1] for j in row if push[i, j] > 0.5] for i, row in enumerate(order)]

    def to_json(self) -> dict[str, object]:
        return {"features": [f for f, _ in FEATURES], "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias, "trained_on": self.trained_on}

    @classmethod
    def of_json(cls, data: Mapping[str, object]) -> Model:
        if list(data["features"]) != [f for f, _ in FEATURES]:  # type: ignore[call-overload]
            raise ValueError("the model file was fitted on other features")
        return cls(np.asarray(data["mean"]), np.asarray(data["scale"]), np.asarray(data["weights"]),
                   float(data["bias"]), str(data["trained_on"]))  # type: ignore[arg-type]


def fit(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, trained_on: str = "", iterations: int = 50) -> Model:
    """Logistic regression by Newton's method on standardised features: the same data gives the same
    weights, bit for bit, on any machine with the same numpy."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = np.column_stack([(x - mean) / scale, np.ones(len(x))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    target = np.asarray(y, dtype=np.float64)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
        gradient = z.T @ (p - target) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return Model(mean, scale, w[:-1], float(w[-1]), trained_on)


def save(model: Model, path: Path = SHIPPED) -> None:
    path.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")


def load(path: Path) -> Model:
    try:
        return Model.of_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Invalid("invalid_accounts_file", f"{path} is not a fake-account model: {exc}", field="model",
                      allowed="a JSON file written by `zhongcao creators train-accounts`") from None


@cache
def shipped() -> Model:
    return load(SHIPPED)


def auc(scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive scores above a random negative (ties half)."""
    y = np.asarray(labels, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if not pos or not neg:
        raise ValueError("AUC needs both classes")
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))
