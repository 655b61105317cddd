"""Settings of the fraud-detection example: where the Spate backend is and
which API key to use.

They come from the environment (SPATE_BACKEND_URL, SPATE_API_KEY) or, for any
that is unset, from the `.env` file at the repository root, which
`spate serve` fills in on its first start. `.env` holds KEY=VALUE lines;
blank lines and lines starting with # are ignored, values may be quoted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; a missing file gives an empty dict."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


#: Names the scripts give the datasets and the model.
TRANSACTIONS_DATASET = "transactions"
LABELS_DATASET = "labels"
MODEL_NAME = "fraud_model"


@dataclass(frozen=True)
class Config:
    """The example's settings."""

    backend_url: str
    api_key: str
    transactions_dataset_name: str = TRANSACTIONS_DATASET
    labels_dataset_name: str = LABELS_DATASET
    model_name: str = MODEL_NAME


def load(env_file: Path = REPO_ROOT / ".env") -> Config:
    """Read the settings; the environment wins over the file."""
    file_values = read_env_file(env_file)

    def get(name: str, default: str | None = None) -> str:
        value = os.environ.get(name) or file_values.get(name) or default
        if not value:
            raise SystemExit(
                f"{name} is not set: start the platform once (`spate serve` writes it to {env_file}) "
                f"or export {name}"
            )
        return value

    return Config(backend_url=get("SPATE_BACKEND_URL", "http://localhost:8500"), api_key=get("SPATE_API_KEY"))


config = load()
