"""Each council's creditors and a year or two of their invoices (un-noised)."""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.addresses import supplier_count
from fraudmatch.synth.context import Ctx, record_frame
from fraudmatch.synth.lexicon import load_lexicon
from fraudmatch.synth.vocabulary import NULL_DAY, PARTNERS, TRADES


def company_names(rng: np.random.Generator, n: int, town: str) -> pl.Series:
    """Plausible supplier names: family firms, trades, places."""
    lex = load_lexicon()
    sur = lex.surnames.gather(rng.choice(len(lex.surname_p), n, p=lex.surname_p))
    sur2 = lex.surnames.gather(rng.choice(len(lex.surname_p), n, p=lex.surname_p))
    trade = pl.Series(TRADES).gather(rng.integers(0, len(TRADES), n))
    street = lex.streets.gather(rng.integers(0, len(lex.streets), n))
    pattern = pl.Series(rng.integers(0, 5, n))
    return pl.select(
        pl.when(pattern == 0)
        .then(sur + " & Sons Ltd")
        .when(pattern == 1)
        .then(sur + " " + trade + " Ltd")
        .when(pattern == 2)
        .then(street + " " + trade + " Services Ltd")
        .when(pattern == 3)
        .then(pl.lit(town) + " " + trade + " Co")
        .otherwise(sur + " and " + sur2 + " LLP")
    ).to_series()


_NATIONAL_FIRMS = 30  # firms that supply several councils


def natural_creditors(ctx: Ctx, rng: np.random.Generator) -> None:
    """Suppliers per council: local companies, sole traders at home, shared national firms."""
    adults = ctx.people.filter(pl.col("dod").is_null() & pl.col("age").is_between(25, 70))
    national = _national_firms(ctx, rng)
    frames = []
    for p in range(ctx.n_partners):
        n_sup = supplier_count(int((ctx.people["partner"] == p).sum()))
        n_sole = n_sup // 5
        n_nat = min(_NATIONAL_FIRMS, n_sup // 10)
        local = _local_companies(ctx, rng, p, n_sup - n_sole - n_nat)
        sole = _sole_traders(ctx, rng, adults.filter(pl.col("partner") == p), n_sole)
        nat = national[np.sort(rng.choice(_NATIONAL_FIRMS, n_nat, replace=False))]
        f = pl.concat([local, sole, nat], how="vertical_relaxed")
        frames.append(f.with_columns(partner=pl.lit(p, dtype=pl.Int32)))
    cred = pl.concat(frames, how="vertical_relaxed")
    h = cred.height
    cred = cred.with_columns(
        person_id=pl.lit(None, dtype=pl.Int64),
        address_id=pl.col("address_id").cast(pl.Int64),
        sort_code=pl.col("sort_code").cast(pl.String).str.zfill(6),
        account_number=pl.col("account_number").cast(pl.String),
        vat_number=pl.when(pl.col("vat")).then(
            pl.lit("GB") + pl.Series(rng.integers(100_000_000, 999_999_999, h)).cast(pl.String)
        ),
        recurring=pl.Series(rng.random(h) < 0.15),
    ).drop("vat")
    ctx.add("creditors", cred)


def _national_firms(ctx: Ctx, rng: np.random.Generator) -> pl.DataFrame:
    """Firms that supply several councils under one name, address, company and account."""
    n = _NATIONAL_FIRMS
    names = company_names(rng, n, "National")
    addr = ctx.addresses.filter(pl.col("kind") == "business").sample(
        n, with_replacement=True, seed=int(rng.integers(1 << 31))
    )["address_id"]
    company = pl.Series(rng.integers(1_000_000, 15_000_000, n)).cast(pl.String).str.zfill(8)
    sort = pl.Series(ctx.sort_pool[rng.integers(0, len(ctx.sort_pool), n)])
    return pl.DataFrame(
        {
            "supplier_name": names,
            "address_id": addr,
            "sort_code": sort,
            "account_number": pl.Series(ctx.take_accounts(n)),
            "company_number": company,
            "vat": np.ones(n, bool),
        }
    )


def _local_companies(ctx: Ctx, rng: np.random.Generator, partner: int, n: int) -> pl.DataFrame:
    """Companies at the council's business premises, 90% with a company number."""
    bus = ctx.addresses.filter((pl.col("partner") == partner) & (pl.col("kind") == "business"))
    return pl.DataFrame(
        {
            "supplier_name": company_names(rng, n, PARTNERS[partner][2]),
            "address_id": bus["address_id"].head(n),
            "sort_code": ctx.sort_pool[rng.integers(0, len(ctx.sort_pool), n)],
            "account_number": ctx.take_accounts(n),
            "company_number": pl.select(
                pl.when(pl.Series(rng.random(n) < 0.9)).then(
                    pl.Series(rng.integers(1_000_000, 15_000_000, n)).cast(pl.String).str.zfill(8)
                )
            ).to_series(),
            "vat": rng.random(n) < 0.6,
        }
    )


def _sole_traders(
    ctx: Ctx, rng: np.random.Generator, residents: pl.DataFrame, n: int
) -> pl.DataFrame:
    """Residents trading from home; 30% are paid into their own personal account."""
    people = residents.sample(min(n, residents.height), seed=int(rng.integers(1 << 31)))
    k = people.height
    trade = pl.Series(TRADES).gather(rng.integers(0, len(TRADES), k))
    own_acct = rng.random(k) < 0.3
    initial = people["first"].str.slice(0, 1)
    return pl.DataFrame(
        {
            "supplier_name": pl.select(
                pl.when(pl.Series(rng.random(k) < 0.5))
                .then(people["first"] + " " + people["surname"] + " " + trade)
                .otherwise(initial + " " + people["surname"] + " " + trade)
            ).to_series(),
            "address_id": people["address_id"],
            "sort_code": np.where(
                own_acct,
                people["sort_code"].cast(pl.Int64).to_numpy(),
                ctx.sort_pool[rng.integers(0, len(ctx.sort_pool), k)],
            ),
            "account_number": np.where(
                own_acct, people["account"].cast(pl.Int64).to_numpy(), ctx.take_accounts(k)
            ),
            "company_number": pl.Series([None] * k, dtype=pl.String),
            "vat": rng.random(k) < 0.2,
        }
    )


def natural_payments(ctx: Ctx, rng: np.random.Generator) -> None:
    """A year or two of invoices: sequential numbers per supplier, some monthly fixed fees."""
    cred = ctx.records["creditors"]
    frames = []
    for p in range(ctx.n_partners):
        sup = cred.filter(pl.col("partner") == p)
        n_inv = max(1500, round(0.6 * int((ctx.people["partner"] == p).sum())))
        rec_mask = sup["recurring"].to_numpy()
        # Monthly fees: 6 to 24 invoices each; the rest spread over the other suppliers,
        # a few busy ones (log-normal weights) and a long tail.
        counts = np.where(rec_mask, rng.integers(6, 25, sup.height), 0)
        w = np.where(rec_mask, 0.0, rng.lognormal(0, 1.2, sup.height))
        counts += rng.multinomial(max(0, n_inv - int(counts.sum())), w / w.sum())
        n_inv = int(counts.sum())
        s_idx = np.repeat(np.arange(sup.height), counts)
        recurring = sup["recurring"].to_numpy()[s_idx]
        k = np.arange(n_inv) - (np.cumsum(counts) - counts)[s_idx]
        offset = rng.integers(0, 30, sup.height)[s_idx]
        date_ = np.where(
            recurring,
            ctx.cycle - 30 * k - offset - rng.integers(-2, 3, n_inv),
            ctx.cycle - rng.integers(1, 400, n_inv),
        )
        order = np.lexsort((date_, s_idx))
        s_idx, recurring, date_ = s_idx[order], recurring[order], date_[order]
        gap = np.where(recurring, 1, rng.integers(1, 40, n_inv))
        first = np.minimum(np.cumsum(counts) - counts, n_inv - 1)
        csum = np.cumsum(gap)
        within = csum - (csum[first] - gap[first])[s_idx]
        number = rng.integers(1_000, 400_000, sup.height)[s_idx] + within
        fmt = rng.integers(0, 5, sup.height)[s_idx]
        letters = pl.Series([a + b for a in "ABCDEFGHJKLMNPRSTW" for b in "ABCDEFGHJKLMNPRSTW"])
        prefix = letters.gather(rng.integers(0, len(letters), sup.height)[s_idx])
        num = pl.Series(number)
        inv_no = pl.select(
            pl.when(pl.Series(fmt) == 0)
            .then("INV-" + num.cast(pl.String).str.zfill(6))
            .when(pl.Series(fmt) == 1)
            .then(num.cast(pl.String).str.zfill(6))
            .when(pl.Series(fmt) == 2)
            .then("SI" + num.cast(pl.String).str.zfill(7))
            .when(pl.Series(fmt) == 3)
            .then(prefix + num.cast(pl.String).str.zfill(6))
            .otherwise(num.cast(pl.String).str.zfill(8))
        ).to_series()
        fixed = _amounts(rng, sup.height)
        amount = np.where(recurring, fixed[s_idx], _amounts(rng, n_inv))
        paid = date_ + rng.integers(5, 46, n_inv)
        frames.append(
            record_frame(
                np.full(n_inv, p),
                None,
                np.full(n_inv, None),
                {
                    "invoice_date": date_,
                    "payment_date": np.where(paid <= ctx.cycle, paid, NULL_DAY),
                },
                supplier_uid=sup["uid"].gather(s_idx),
                invoice_number=inv_no,
                amount_p=amount,
            )
        )
    ctx.add("creditor_payments", pl.concat(frames))


def _amounts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Invoice amounts in pence: log-normal, a fifth of them round figures."""
    raw = np.exp(rng.normal(np.log(40_000), 1.3, n)).astype(np.int64) + 100
    round_ = np.maximum(raw // 5_000, 1) * 5_000
    return np.where(rng.random(n) < 0.2, round_, raw)
