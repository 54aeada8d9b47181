"""``zhongcao creators``: audit external accounts with the fake-account model, and refit it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Creator marketplace tools: audit accounts, refit the fake-account model.",
                  no_args_is_help=True)
out = Console()


@app.command("audit-accounts")
def audit_accounts(file: Annotated[Path, typer.Argument(help="CSV with account_ref, follower_count, following_count, "
                                                        "media_count, has_profile_pic, is_private, biography_length, "
                                                        "username_length, username_digit_count.")],
                   out_path: Annotated[Path, typer.Option("--out", help="Where to write the scores (CSV).")],
                   model: Annotated[Path | None, typer.Option(help="A refitted model (JSON) instead of the shipped one."
                                                              )] = None) -> None:
    """Score each account's probability of being fake, with reasons; bad rows get an error, not a crash."""
    from zhongcao.core import Invalid
    from zhongcao.market.audit import audit_csv
    from zhongcao.market.fake_accounts import load

    if not file.is_file():
        raise Invalid("invalid_accounts_file", f"{file} is not a readable file", field="file", allowed="a CSV file")
    result = audit_csv(file, out_path, load(model) if model else None)
    out.print(f"{result.rows:,} accounts: {result.scored:,} scored, {result.likely_fake:,} likely fake (p ≥ 0.5), "
              f"{result.errors:,} rows with errors → {out_path}")


@app.command("train-accounts")
def train_accounts(file: Annotated[Path | None, typer.Option(
                       "--from", help="Labelled CSV (the audit columns plus is_fake 0/1); default: the simulator's "
                                      "labelled accounts.")] = None,
                   out_path: Annotated[Path | None, typer.Option(
                       "--out", help="Where to write the model (JSON); default: the shipped model file.")] = None,
                   seed: Annotated[int | None, typer.Option(help="Seed of the simulated accounts.")] = None) -> None:
    """Fit the fake-account model, and report its AUC on a held-out set."""
    from zhongcao.market import fake_accounts
    from zhongcao.market.audit import labelled_csv
    from zhongcao.sim.accounts import TRAINING_SEED, training_set

    if file is not None:
        columns, labels = labelled_csv(file)
        cut = len(labels) * 4 // 5
        train = ({c: v[:cut] for c, v in columns.items()}, labels[:cut])
        held = ({c: v[cut:] for c, v in columns.items()}, labels[cut:])
        source = file.name
    else:
        base = TRAINING_SEED if seed is None else seed
        train, held = training_set(base), training_set(base + 1, 10_000)
        source = f"simulated accounts, seed {base}"
    model = fake_accounts.fit(fake_accounts.features(train[0]), train[1], trained_on=source)
    target = out_path or fake_accounts.SHIPPED
    fake_accounts.save(model, target)
    held_auc = fake_accounts.auc(model.predict(fake_accounts.features(held[0])), held[1])
    out.print(f"fitted on {len(train[1]):,} accounts ({source}); held-out AUC {held_auc:.4f} on {len(held[1]):,} "
              f"→ {target}")
