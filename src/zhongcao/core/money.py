"""Money is integer fen (1/100 yuan) everywhere; yuan appear only when fen are shown to people."""

from __future__ import annotations

from zhongcao.core.errors import Invalid

MAX_FEN = 10**15  # ¥10 trillion: far beyond any wallet, well inside BIGINT.


def require_positive_fen(amount_fen: object, field: str = "amount_fen") -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise Invalid("invalid_amount", f"{field} must be an integer number of fen", field=field,
                      allowed=f"integer 1..{MAX_FEN}")
    if not 0 < amount_fen <= MAX_FEN:
        raise Invalid("invalid_amount", f"{field} must be between 1 and {MAX_FEN} fen, got {amount_fen}",
                      field=field, allowed=f"integer 1..{MAX_FEN}")
    return amount_fen


def format_fen(amount_fen: int) -> str:
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), 100)
    return f"{sign}¥{yuan:,}.{fen:02d}"
