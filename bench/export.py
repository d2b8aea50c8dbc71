"""The edition workbook for a national contest: the formatted writer against a bare dump of the same cells.

5,000 institutions x 5 channels x ~3 contacts, 60 criteria, built in memory (no database):
the same tables are written (a) by a bare openpyxl write-only dump of plain values and (b) by
audit.exports.write_edition, with its styles, widths, frozen panes, filters and colour scales.
Each timing is the best of several runs; the budget is a ratio to the bare dump.
"""

from __future__ import annotations

import io
import random
import time
from datetime import date, datetime, timedelta

from openpyxl import Workbook

from audit.exports import (
    ChannelInfo,
    ChannelRow,
    CriteriaRow,
    CriterionInfo,
    Edition,
    LicenceRow,
    RankingRow,
    Table,
    edition_tables,
    write_edition,
)
from audit.scoring import competition_ranks

from .report import Row

INSTITUTIONS = 5000
CHANNELS = ("visit", "phone", "email", "social", "website")
CONTACTS_PER_CHANNEL = 3
CRITERIA = 60
RUNS = 3
CATEGORIES = ("Ośrodek pomocy społecznej", "Centrum obsługi mieszkańców", "Biuro obsługi klienta", "Infolinia")
TOWNS = ("Łódź", "Żółkiewka", "Gdańsk", "Kraków", "Zielonki Dolne", "Dębnica Wielka", "Brzozowo", "Jaworzyn")


def synthetic_edition(seed: int = 1, institutions: int = INSTITUTIONS) -> Edition:
    """A published edition of `institutions` institutions with plausible scores, without a database."""
    rng = random.Random(seed)
    per_channel = CRITERIA // len(CHANNELS)
    channels = tuple(ChannelInfo(code, code.capitalize()) for code in CHANNELS)
    criteria = tuple(CriterionInfo(ch, f"{ch}_criterion_{k}", f"Czy pracownik {k} zachował się właściwie?")
                     for ch in CHANNELS for k in range(per_channel))
    base = []
    for i in range(institutions):
        quality = rng.uniform(0.5, 0.98)
        contacts = {ch: tuple(min(1.0, max(0.0, rng.gauss(quality, 0.1)))
                              for _ in range(CONTACTS_PER_CHANNEL - (rng.random() < 0.1))) for ch in CHANNELS}
        means = {ch: sum(s) / len(s) for ch, s in contacts.items()}
        points = round(sum(means.values()) / len(means) * 1000, 1)
        shares = tuple(None if rng.random() < 0.05 else rng.choice((0.0, 0.5, 1.0, quality)) for _ in criteria)
        town = TOWNS[i % len(TOWNS)]
        base.append((f"Miejski Ośrodek Pomocy Społecznej nr {i} w {town}", town, CATEGORIES[i % 4], contacts, means,
                     points, shares))
    base.sort(key=lambda b: -b[5])
    ranks = competition_ranks([b[5] for b in base])
    ranking: list[RankingRow] = []
    criteria_rows: list[CriteriaRow] = []
    licences: list[LicenceRow] = []
    channel_rows: dict[str, list[ChannelRow]] = {ch: [] for ch in CHANNELS}
    granted = date(2026, 12, 20)
    for (name, town, category, contacts, means, points, shares), rank in zip(base, ranks, strict=True):
        licensed = points >= 750
        ranking.append(RankingRow(rank, name, category, town, "łódzkie", points, tuple(means.values()), licensed,
                                  rank, None, "" if licensed else "Punkty poniżej progu 750,0 pkt."))
        for ch in CHANNELS:
            channel_rows[ch].append(ChannelRow(name, town, contacts[ch], means[ch], len(contacts[ch]), "oceniony"))
        criteria_rows.append(CriteriaRow(name, town, category, shares))
        if licensed:
            licences.append(LicenceRow(f"AZ-2026-001-{len(licences) + 1:04d}", name, town, points, granted,
                                       granted + timedelta(days=365), "ważna", None, None))
    return Edition(name="Lider Zaufania Mieszkańców 2026", year=2026, revision=1,
                   published_at=datetime(2026, 12, 20, 12, 0), threshold=750.0, channels=channels, ranking=ranking,
                   channel_rows=channel_rows, criteria=criteria, criteria_rows=criteria_rows, licences=licences)


def bare_dump(tables: list[Table]) -> bytes:
    """The same cells as plain values through openpyxl's write-only mode: no styles, no layout."""
    wb = Workbook(write_only=True)
    for table in tables:
        ws = wb.create_sheet(table.title)
        for line in table.caption:
            ws.append([line])
        if table.groups is not None:
            ws.append(list(table.groups))
        if table.summary is not None:
            ws.append(list(table.summary))
        ws.append([c.header for c in table.columns])
        for row in table.rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def formatted(edition: Edition) -> bytes:
    out = io.BytesIO()
    write_edition(edition, out)
    return out.getvalue()


def run() -> list[Row]:
    print(f"building an edition workbook of {INSTITUTIONS:,} institutions x {len(CHANNELS)} channels, "
          f"{CRITERIA} criteria ...", flush=True)
    edition = synthetic_edition()
    cells = sum(len(t.columns) * sum(1 for _ in t.rows) for t in edition_tables(edition))
    bare_times, ours_times = [], []
    for _ in range(RUNS):  # interleaved, so that a noisy neighbour slows both alike
        tables = [Table(t.title, t.columns, list(t.rows), t.caption, t.groups, t.summary)
                  for t in edition_tables(edition)]  # the tables stream their rows: the bare dump is given lists
        start = time.perf_counter()
        bare_size = len(bare_dump(tables))
        bare_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        our_size = len(formatted(edition))
        ours_times.append(time.perf_counter() - start)
    bare, ours = min(bare_times), min(ours_times)
    return [
        Row(f"export: bare write-only dump, {cells / 1e6:.2f}M cells (baseline)", f"{bare * 1000:,.0f} ms", 1.0, None,
            note=f"{bare_size / 1e6:.1f} MB"),
        Row("export: formatted edition workbook", f"{ours * 1000:,.0f} ms", ours / bare, 1.3,
            note=f"{our_size / 1e6:.1f} MB"),
    ]


if __name__ == "__main__":
    from .report import print_table

    print_table(run())
