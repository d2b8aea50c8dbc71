"""The demo contest: fictional institutions, people and a few hundred scored contacts.

Deterministic (a fixed seed), idempotent, and it refuses to touch a database that holds
anything it did not make itself. Demo accounts exist only in a database made here.
"""

from __future__ import annotations

import functools
import random
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from . import mail, publication, services
from .demo_calibration import add_calibration
from .extensions import db
from .facts import measures
from .models import (
    Answer,
    Assignment,
    Campaign,
    CampaignChannel,
    Contact,
    Institution,
    Licence,
    MailMessage,
    Scenario,
    Setting,
    User,
    director_institution,
)
from .rubrics import Criterion, Rubric
from .scoring import NOT_APPLICABLE, AnswerValue

DEMO_PASSWORD = "demo"
DEMO_LOGINS = ("organiser@demo.test", "auditor@demo.test", "director@demo.test")
SEED = 2026

WEIGHTS = {"visit": 0.30, "phone": 0.25, "email": 0.20, "social": 0.10, "website": 0.15}
MIN_CONTACTS = {"visit": 2, "phone": 2, "email": 2, "social": 1, "website": 1}
CONTACTS_PER_CHANNEL = {"visit": 2, "phone": 3, "email": 2, "social": 1, "website": 1}

REGIONS = ("śląskie", "małopolskie", "mazowieckie", "wielkopolskie", "pomorskie", "łódzkie")
TOWNS = (  # fictional towns: (name, locative for "w ...")
    ("Zielonki Dolne", "Zielonkach Dolnych"), ("Brzozowo", "Brzozowie"), ("Lipowiec", "Lipowcu"),
    ("Dębnica Wielka", "Dębnicy Wielkiej"), ("Jaworzyn", "Jaworzynie"), ("Olszanka Górna", "Olszance Górnej"),
    ("Kamienica Nowa", "Kamienicy Nowej"), ("Wierzbowo", "Wierzbowie"), ("Grabówka", "Grabówce"),
    ("Sosnowa Wola", "Sosnowej Woli"), ("Modrzewie", "Modrzewiu"), ("Jodłowice", "Jodłowicach"),
    ("Bukowiec Mały", "Bukowcu Małym"), ("Klonowo", "Klonowie"), ("Topolin", "Topolinie"), ("Cisowa", "Cisowej"),
    ("Jesionka", "Jesionce"), ("Kaliny", "Kalinach"), ("Głogowiec", "Głogowcu"), ("Leszczyny", "Leszczynach"),
)
INSTITUTION_KINDS = {
    # category: (name pattern, channels offered, count)
    "social_welfare": ("Miejski Ośrodek Pomocy Społecznej w {locative}", ("visit", "phone", "email", "social", "website"), 16),
    "municipal_services": ("Centrum Obsługi Mieszkańców w {locative}", ("visit", "phone", "email", "social", "website"), 12),
    "utility": ("Wodociągi i Kanalizacja – Biuro Obsługi Klienta, {town}", ("visit", "phone", "email", "website"), 6),
    "helpline": ("Telefon Wsparcia „Nie jesteś sam” – {town}", ("phone", "email", "social", "website"), 6),
}
SCENARIOS = {
    "visit": ("Jak złożyć wniosek o dodatek mieszkaniowy?", "Skarga na decyzję w sprawie zasiłku celowego.",
              "Starsza osoba pyta o usługi opiekuńcze w domu."),
    "phone": ("Osoba starsza, która nie może przyjść do urzędu, pyta o pomoc.",
              "Jakie dokumenty są potrzebne do zasiłku rodzinnego?", "Pytanie o termin rozpatrzenia wniosku."),
    "email": ("Prośba o listę dokumentów do wniosku o dodatek energetyczny.",
              "Pytanie o możliwość odwołania się od decyzji.", "Pytanie o godziny przyjęć i dyżury pracowników."),
    "social": ("Wiadomość: gdzie znaleźć formularz wniosku?", "Wiadomość: czy można umówić wizytę domową?"),
    "website": ("Przegląd strony: informacje o świadczeniach i dostępność.",),
}


RETURN_COMMENTS = (
    "Brak komentarza przy ocenie „nie” w pytaniu o udzielenie informacji – proszę opisać, czego zabrakło.",
    "Czas oczekiwania wygląda na pomyłkę (minuty czy sekundy?) – proszę sprawdzić i poprawić.",
    "Proszę dołączyć zrzut ekranu odpowiedzi jako dowód.",
)


class DemoRefused(RuntimeError):
    """The database holds data the demo did not make."""


def _is_demo_database() -> bool:
    return db.session.get(Setting, "demo") is not None


def _is_empty() -> bool:
    return all(db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
               for model in (User, Institution, Campaign))


def load_demo() -> str:
    """Create the demo contest in an empty database; commit; say what happened."""
    if _is_demo_database():
        return "demo contest already loaded; nothing to do"
    if not _is_empty():
        raise DemoRefused("the database holds data that the demo command did not make; use an empty database")
    rng = random.Random(SEED)
    seed = services.load_rubric_dir(current_app.config["RUBRICS_DIR"])
    rubrics, earlier = _latest_rubric_per_channel(seed), _earlier_rubric_per_channel(seed)
    if not rubrics:
        raise DemoRefused(f"no rubrics found in {current_app.config['RUBRICS_DIR']}")
    for rubric in [*earlier.values(), *rubrics.values()]:
        services.store_rubric(rubric)

    organiser = _user("organiser@demo.test", "Organizator (demo)", "organiser")
    auditors = [_user("auditor@demo.test", "Audytor 1 (demo)", "auditor", "A-01")]
    auditors += [_user(f"auditor{n}@demo.test", f"Audytor {n} (demo)", "auditor", f"A-{n:02d}") for n in range(2, 7)]
    institutions = _institutions(rng)
    director = _user("director@demo.test", "Dyrektor (demo)", "director")
    director.institutions = [institutions[0], institutions[17]]
    for n, inst in enumerate(institutions[1:12], start=2):
        _user(f"director{n}@demo.test", f"Dyrektor {n} (demo)", "director").institutions = [inst]

    qualities = {inst.id: rng.uniform(0.55, 0.97) for inst in institutions}
    qualities[institutions[17].id] = 0.99  # one of the demo director's institutions earns its licences
    campaign = _edition(2026, "fieldwork", rubrics)
    contacts = _fieldwork(rng, campaign, institutions, auditors, rubrics, qualities, CONTACTS_PER_CHANNEL,
                          statuses=(("accepted", 88), ("submitted", 6), ("returned", 2), ("draft", 4)))
    # The demo auditor has a returned contact to correct (whatever the dice said).
    mine = db.session.scalars(sa.select(Contact).filter_by(campaign_id=campaign.id, auditor_id=auditors[0].id)
                              .order_by(Contact.id)).all()
    if not any(c.status == "returned" for c in mine):
        first = next(c for c in mine if c.status == "accepted")
        first.status, first.review_comment = "returned", RETURN_COMMENTS[0]
    # Work still to do for the demo auditor: planned contacts without a record yet.
    for inst in institutions[20:24]:
        db.session.add(Assignment(campaign_id=campaign.id, institution_id=inst.id, channel="visit",
                                  auditor_id=auditors[0].id, scenario=rng.choice(SCENARIOS["visit"]),
                                  due_start=date(2026, 11, 16), due_end=date(2026, 12, 4)))
    for inst, channel in ((institutions[24], "phone"), (institutions[25], "email"), (institutions[26], "social")):
        db.session.add(Assignment(campaign_id=campaign.id, institution_id=inst.id, channel=channel,
                                  auditor_id=auditors[0].id, scenario=SCENARIOS[channel][0],
                                  due_start=date(2026, 11, 16), due_end=date(2026, 12, 18)))
    add_calibration(campaign, auditors, rubrics, rng)
    _scenario_library(campaign)
    # Two earlier editions, published: a trend for directors, licences still valid and already expired.
    for years_ago, drift in ((2, -0.06), (1, -0.03)):
        past = _edition(2026 - years_ago, "review", earlier)
        contacts += _fieldwork(rng, past, institutions, auditors, earlier,
                               {i: q + drift for i, q in qualities.items()}, MIN_CONTACTS, (("accepted", 1),))
        _publish_in_the_past(past, organiser, days_ago=365 * years_ago - 25)
    _improvement_plan(director, past, institutions[0], organiser, later=campaign)
    _public_plan(past, skip=director)
    # The demo's past is history, not news: its publications mailed nobody, so the outbox starts empty.
    db.session.execute(sa.delete(MailMessage))
    db.session.info.pop(mail.QUEUED, None)
    db.session.add(Setting(key="demo", value="1"))
    db.session.commit()
    return (f"demo contest loaded: {len(institutions)} institutions, {contacts} contacts, "
            f"logins {', '.join(DEMO_LOGINS)} (password: {DEMO_PASSWORD}); organiser id {organiser.id}")


def _latest_rubric_per_channel(rubrics: list[Rubric]) -> dict[str, Rubric]:
    latest: dict[str, Rubric] = {}
    for rubric in sorted(rubrics, key=lambda r: r.version):
        latest[rubric.channel] = rubric
    return latest


def _earlier_rubric_per_channel(rubrics: list[Rubric]) -> dict[str, Rubric]:
    """Per channel the version before the newest (the newest where there is only one): what the demo's past
    editions pinned, so that the 2026 edition's method page has a change in the instrument to show."""
    latest = _latest_rubric_per_channel(rubrics)
    previous = _latest_rubric_per_channel([r for r in rubrics if r.hash != latest[r.channel].hash])
    return {channel: previous.get(channel, rubric) for channel, rubric in latest.items()}


@functools.cache
def _demo_password_hash() -> str:
    """One scrypt hash for every demo account: they share a public password, and scrypt is slow on purpose."""
    return generate_password_hash(DEMO_PASSWORD)


def _user(email: str, name: str, role: str, pseudonym: str | None = None) -> User:
    user = User(email=email, name=name, role=role, pseudonym=pseudonym, password_hash=_demo_password_hash())
    db.session.add(user)
    db.session.flush()
    return user


def _edition(year: int, status: str, rubrics: dict[str, Rubric]) -> Campaign:
    campaign = Campaign(name=f"Lider Zaufania Mieszkańców {year} (demo)", year=year, status=status,
                        threshold=750.0, missing_channel="exclude", fieldwork_start=date(year, 9, 1),
                        fieldwork_end=date(year, 12, 18))
    for position, (channel, weight) in enumerate(WEIGHTS.items()):
        if channel in rubrics:
            campaign.channels.append(CampaignChannel(channel=channel, rubric_hash=rubrics[channel].hash, weight=weight,
                                                     min_contacts=MIN_CONTACTS[channel], position=position))
    db.session.add(campaign)
    db.session.flush()
    return campaign


def _fieldwork(rng: random.Random, campaign: Campaign, institutions: list[Institution], auditors: list[User],
               rubrics: dict[str, Rubric], qualities: dict[int, float], per_channel: dict[str, int],
               statuses: tuple[tuple[str, int], ...]) -> int:
    """Every institution contacted through its channels, by auditors chosen at random."""
    contacts = 0
    for inst in institutions:
        for channel in inst.channels:
            if channel not in rubrics:
                continue
            planned = per_channel[channel] - (1 if rng.random() < 0.06 else 0)  # a few fall short
            for _ in range(planned):
                contacts += _contact(rng, campaign, inst, channel, rng.choice(auditors), rubrics[channel],
                                     qualities[inst.id], statuses)
    return contacts


PLAN_ACTIONS = (
    ("Szkolenie zespołu z tego standardu i karta z gotowymi sformułowaniami przy każdym stanowisku.",
     "Kierownik działu obsługi"),
    ("Cotygodniowy przegląd kilku losowych rozmów i odpowiedzi, z omówieniem na odprawie.", "Zastępca dyrektora"),
    ("Nowa procedura i wzór odpowiedzi, zatwierdzone przez dyrektora.", "Koordynator ds. jakości"),
)


def _improvement_plan(director: User, campaign: Campaign, institution: Institution, organiser: User,
                      later: Campaign) -> None:
    """The demo director's plan from the 2025 result: the 2026 edition measures it once published.

    Two actions on criteria the 2026 fieldwork asked in at least two accepted contacts (so that the
    follow-up has figures to compare) and one on a one-contact channel ("not enough contacts to tell").
    """
    from . import plans, scorecard

    card = scorecard.build(campaign, institution)
    if card is None or not card.lost:
        return
    asked_later = {(ch, crit): n for ch, crit, n in db.session.execute(
        sa.select(Contact.channel, Answer.criterion_id, sa.func.count()).join(Contact, Contact.id == Answer.contact_id)
        .where(Contact.campaign_id == later.id, Contact.institution_id == institution.id,
               Contact.status == "accepted", Answer.possible > 0)
        .group_by(Contact.channel, Answer.criterion_id))}
    phone = [i for i in card.lost if i.asked >= plans.MIN_CONTACTS
             and asked_later.get((i.channel, i.criterion.id), 0) >= plans.MIN_CONTACTS][:2]
    thin = [i for i in card.lost if i.channel in ("social", "website")][:1]  # one contact: "not enough to tell"
    lost = (phone + thin + [i for i in card.lost if i not in phone and i not in thin])[:len(PLAN_ACTIONS)]
    due = date(2026, 6, 30)
    actions = [plans.ActionInput(item.channel, item.criterion.id, what, who, due)
               for item, (what, who) in zip(lost, PLAN_ACTIONS, strict=False)]
    plan = plans.save(director, campaign, institution.id, actions, {(i.channel, i.criterion.id) for i in card.lost},
                      submit=True)
    plans.comment(plan, organiser, "Dobry plan. Proszę o krótką informację po szkoleniu zespołu.")


def _public_plan(campaign: Campaign, skip: User) -> None:
    """The 2025 edition shows plans in public, and the best licence holder with a director of its own
    (not the demo director) has submitted one: the registry and the method page have a mark to show."""
    from . import plans, scorecard

    campaign.plans_in_public = True
    for licence in db.session.scalars(sa.select(Licence).filter_by(campaign_id=campaign.id)
                                      .order_by(Licence.points.desc(), Licence.id)):
        director = db.session.scalar(
            sa.select(User).join(director_institution, director_institution.c.user_id == User.id)
            .where(director_institution.c.institution_id == licence.institution_id, User.id != skip.id)
            .order_by(User.id))
        card = scorecard.build(campaign, db.session.get_one(Institution, licence.institution_id))
        if director is None or card is None or not card.lost:
            continue
        actions = [plans.ActionInput(item.channel, item.criterion.id, what, who, date(2026, 6, 30))
                   for item, (what, who) in zip(card.lost[:2], PLAN_ACTIONS, strict=False)]
        plans.save(director, campaign, licence.institution_id, actions,
                   {(i.channel, i.criterion.id) for i in card.lost}, submit=True)
        return


def _publish_in_the_past(campaign: Campaign, organiser: User, days_ago: int) -> None:
    """Publish an edition as if it happened `days_ago`: its licences granted (and expiring) then.

    The newest past edition keeps an open appeal window, so that the demo director can try an appeal.
    """
    revision = publication.publish(campaign, organiser, f"Wyniki edycji {campaign.year}")
    granted = date.today() - timedelta(days=days_ago)
    revision.published_at = datetime.combine(granted, datetime.min.time()).replace(hour=10)
    for licence in db.session.scalars(sa.select(Licence).filter_by(campaign_id=campaign.id)):
        licence.granted_at, licence.valid_until = granted, granted + publication.LICENCE_VALIDITY
    if days_ago < 365:
        campaign.appeal_until = date.today() + timedelta(days=30)
        campaign.evidence_to_directors = True


def _institutions(rng: random.Random) -> list[Institution]:
    made: list[Institution] = []
    town_cycle = iter(rng.sample(TOWNS, len(TOWNS)) * 3)
    for category, (pattern, channels, count) in INSTITUTION_KINDS.items():
        for n in range(count):
            town, locative = next(town_cycle)
            offered = list(channels)
            if category == "social_welfare" and n % 5 == 4:
                offered.remove("phone")  # some small centres have no phone line for clients
            if category == "municipal_services" and n % 4 == 3:
                offered.remove("social")
            number = len(made) + 1  # fictional details: example.pl addresses, phone numbers of no one
            inst = Institution(name=pattern.format(town=town, locative=locative), category=category, city=town,
                               region=REGIONS[(n + len(made)) % len(REGIONS)], channels=offered,
                               address=f"ul. Główna {number}, {town}", phone=f"+48 22 000 {number:02d} 00",
                               email=f"kontakt{number}@example.pl", website=f"https://example.pl/instytucja-{number}",
                               social=f"https://example.pl/profil-{number}" if "social" in offered else "",
                               opening_hours="pon.–pt. 8:00–16:00")
            db.session.add(inst)
            made.append(inst)
    db.session.flush()
    return made


def _contact(rng: random.Random, campaign: Campaign, inst: Institution, channel: str, auditor: User,
             rubric: Rubric, quality: float, statuses: tuple[tuple[str, int], ...]) -> int:
    assert campaign.fieldwork_start is not None
    day = campaign.fieldwork_start + timedelta(days=rng.randrange(60))
    when = datetime(day.year, day.month, day.day, rng.randrange(8, 15), rng.choice((0, 15, 30, 45)))
    scenario = rng.choice(SCENARIOS[channel])
    assignment = Assignment(campaign_id=campaign.id, institution_id=inst.id, channel=channel, auditor_id=auditor.id,
                            scenario=scenario, due_start=campaign.fieldwork_start, due_end=campaign.fieldwork_end)
    db.session.add(assignment)
    db.session.flush()
    status = rng.choices([name for name, _ in statuses], weights=[weight for _, weight in statuses])[0]
    contact = Contact(campaign_id=campaign.id, institution_id=inst.id, channel=channel, auditor_id=auditor.id,
                      assignment_id=assignment.id, contacted_at=when, scenario=scenario, status=status,
                      rubric_hash=rubric.hash, facts={})
    db.session.add(contact)
    db.session.flush()
    answers, measured = _answers(rng, rubric, quality + rng.uniform(-0.08, 0.08))
    contact.facts = _recorded_facts(channel, when, measured)
    derived = measures(channel, contact.facts)  # what the form would compute from these facts
    answers.update({c.id: derived[c.fact] for c in rubric.criteria if c.fact in derived and c.id in answers})
    if status != "draft":
        contact.submitted_at = when + timedelta(hours=2)
    if status == "returned":
        contact.review_comment = RETURN_COMMENTS[contact.id % len(RETURN_COMMENTS)]
    services.record_answers(contact, answers)
    return 1


def _recorded_facts(channel: str, when: datetime, measured: dict[str, float]) -> dict[str, object]:
    """The facts as an auditor records them; measured ones the rubric reads are derived from these."""
    recorded: dict[str, object] = {k: v for k, v in measured.items() if k != "reply_hours"}
    if channel in ("email", "social"):
        recorded["sent_at"] = when.isoformat(timespec="minutes")
        if "reply_hours" in measured:
            recorded["reply_at"] = (when + timedelta(hours=measured["reply_hours"])).isoformat(timespec="minutes")
        if channel == "social":
            recorded["platform"] = "facebook"
    else:
        recorded["contacted_at"] = when.isoformat(timespec="minutes")
    return recorded


def _answers(rng: random.Random, rubric: Rubric, quality: float) -> tuple[dict[str, AnswerValue], dict[str, float]]:
    """Plausible answers: a better institution (higher quality) answers well more often."""
    quality = min(max(quality, 0.05), 0.99)
    gates = {c.when.criterion for c in rubric.criteria if c.when}
    answers: dict[str, AnswerValue] = {}
    facts: dict[str, float] = {}
    for c in rubric.criteria:
        if c.when and str(answers.get(c.when.criterion)) not in c.when.values:
            continue
        if c.na_allowed and rng.random() < 0.15:
            answers[c.id] = NOT_APPLICABLE
            continue
        p_good = min(0.99, quality + 0.15) if c.id in gates else quality
        if c.critical:
            p_good = 1 - 0.25 * (1 - quality)
        answers[c.id] = _answer(rng, c, p_good)
        if c.fact:
            facts[c.fact] = float(answers[c.id])
    return answers, facts


def _answer(rng: random.Random, c: Criterion, p_good: float) -> AnswerValue:
    if c.type == "yes_no":
        return "yes" if rng.random() < p_good else "no"
    if c.type in ("scale", "choice"):
        ranked = sorted(c.options, key=lambda o: -o.points)
        return ranked[0].id if rng.random() < p_good else rng.choice(ranked[1:]).id
    ranked_bands = sorted(c.bands, key=lambda b: -b.points)
    band = ranked_bands[0] if rng.random() < p_good else rng.choice(ranked_bands)
    top = band.below if band.below is not None else band.at_least * 2 + 5
    value = rng.uniform(band.at_least, top)
    return float(int(value)) if int(value) >= band.at_least and band.holds(float(int(value))) else round(value, 1)


def _scenario_library(campaign: Campaign) -> None:
    """The demo scenarios as the organisers' library, each assignment linked to the one it uses."""
    library = {(channel, text): Scenario(channel=channel, text=text)
               for channel, texts in SCENARIOS.items() for text in texts}
    db.session.add_all(library.values())
    db.session.flush()
    for assignment in db.session.scalars(sa.select(Assignment).filter_by(campaign_id=campaign.id)):
        found = library.get((assignment.channel, assignment.scenario))
        assignment.scenario_id = found.id if found else None
