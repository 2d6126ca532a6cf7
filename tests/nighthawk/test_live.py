"""The live dispatcher's rules on hand-built moments, each in a case where it decides and one
where it does not, with the answer a shared worklist (`pull`) would give beside it."""

from __future__ import annotations

import math

from models.priority import Modality
from nighthawk.kernel import Rights
from nighthawk.live import NOBODY, ChoiceRules, Dispatcher, DispatchSettings, StudyFacts
from nighthawk.live.forecast import forecast

WY = ("WY", "wy-1", Modality.CT, None)
CO = ("CO", "co-1", Modality.CT, None)
FOREVER = math.inf


def rights(*states: str, subspecialties: tuple[str, ...] = ()) -> Rights:
    facilities = {"WY": "wy-1", "CO": "co-1", "MT": "mt-1"}
    return Rights(
        licenses={s: FOREVER for s in states},
        credentials={facilities[s]: FOREVER for s in states},
        modalities=frozenset(),
        subspecialties=frozenset(subspecialties),
    )


def dispatcher(*readers: tuple[str, Rights], rules: ChoiceRules | None = None) -> Dispatcher:
    d = Dispatcher(DispatchSettings(rules=rules or ChoiceRules()))
    for reader_id, held in readers:
        d.add_reader(reader_id, speed=1.0, rights=held)
        d.set_shift(reader_id, 0.0, 600.0)
    return d


def study(
    sid: str,
    klass: tuple = WY,
    *,
    rank: int = 0,
    at: float = 0.0,
    sla: float = 30.0,
    minutes: float = 10.0,
) -> StudyFacts:
    return StudyFacts(sid, klass, rank, at, at + sla, minutes)


def chosen(d: Dispatcher, reader: str, now: float) -> str | None:
    choice = d.choose(reader, now)
    return None if choice is None else str(d.studies.ids[choice.study])


# ----- triage ----------------------------------------------------------------------------------
def test_a_stat_that_can_still_make_it_goes_before_one_already_lost() -> None:
    d = dispatcher(("r1", rights("WY")))
    d.arrive(study("lost", at=0.0), 0.0)  # due 30: at minute 25 a 10-minute read ends late
    d.arrive(study("saveable", at=20.0), 20.0)  # due 50
    assert chosen(d, "r1", 25.0) == "saveable"  # pull would take the older, lost one


def test_with_nothing_to_save_the_earliest_due_goes_first() -> None:
    d = dispatcher(("r1", rights("WY")))
    d.arrive(study("older", at=0.0), 0.0)
    d.arrive(study("newer", at=5.0), 5.0)
    assert chosen(d, "r1", 6.0) == "older"


def test_without_triage_the_oldest_goes_first() -> None:
    d = dispatcher(("r1", rights("WY")), rules=ChoiceRules(triage=False, scarcity=False))
    d.arrive(study("lost", at=0.0), 0.0)
    d.arrive(study("saveable", at=20.0), 20.0)
    assert chosen(d, "r1", 25.0) == "lost"


def test_a_starving_study_goes_before_ones_that_can_still_make_it() -> None:
    d = dispatcher(("r1", rights("WY")))
    d.arrive(study("old", rank=2, at=0.0, sla=60.0), 0.0)  # overdue by 60 more at minute 120
    d.arrive(study("fresh", rank=2, at=100.0, sla=60.0), 100.0)
    assert chosen(d, "r1", 110.0) == "fresh"  # lost by 40 minutes only: triage
    assert chosen(d, "r1", 121.0) == "old"  # overdue by a whole turnaround again


# ----- scarcity ------------------------------------------------------------------------------
def test_the_stat_nobody_else_can_read_in_time_goes_first() -> None:
    d = dispatcher(("r1", rights("WY", "CO")), ("r2", rights("CO")))
    d.arrive(study("co", CO, at=0.0), 0.0)
    d.arrive(study("wy", WY, at=1.0), 1.0)
    # r2 is free too, so the CO study has another reader in time; the WY one has nobody else
    assert chosen(d, "r1", 2.0) == "wy"  # pull: the older CO study, and WY waits 10 minutes


def test_scarcity_does_not_reorder_when_everyone_can_stand_in() -> None:
    d = dispatcher(("r1", rights("WY", "CO")), ("r2", rights("WY", "CO")))
    d.arrive(study("co", CO, at=0.0), 0.0)
    d.arrive(study("wy", WY, at=1.0), 1.0)
    assert chosen(d, "r1", 2.0) == "co"  # both have another reader in time: earliest due


def test_a_busy_reader_who_frees_too_late_cannot_stand_in() -> None:
    d = dispatcher(("r1", rights("WY", "CO")), ("r2", rights("CO")))
    d.arrive(study("busy", CO, rank=2, at=0.0, minutes=120.0), 0.0)
    d.start("busy", "r2", 0.0)  # r2 reads until minute 120
    d.arrive(study("co", CO, at=1.0), 1.0)
    d.arrive(study("wy", WY, at=2.0), 2.0)
    assert chosen(d, "r1", 3.0) == "co"  # nobody else can take either in time: earliest due


# ----- routing an arrival to an idle reader -------------------------------------------------
def test_an_arrival_goes_to_the_idle_reader_who_can_read_the_least() -> None:
    d = dispatcher(("versatile", rights("WY", "CO", "MT")), ("narrow", rights("WY")))
    d.arrive(study("co", CO, rank=2, at=0.0), 0.0)  # makes CO a known class
    d.start("co", "versatile", 0.0)
    d.finish("versatile", 1.0)
    taker = d.arrive(study("wy", WY, at=5.0), 5.0)
    assert d.readers.ids[taker] == "narrow"


def test_an_arrival_nobody_idle_can_start_goes_to_nobody() -> None:
    d = dispatcher(("r1", rights("CO")))
    assert d.arrive(study("wy", WY), 0.0) == NOBODY


# ----- the hard rules ---------------------------------------------------------------------------
def test_nobody_starts_a_read_that_would_end_after_the_shift() -> None:
    d = dispatcher(("r1", rights("WY")))
    d.set_shift("r1", 0.0, 30.0)
    d.arrive(study("long", minutes=40.0, sla=1440.0, rank=2), 0.0)
    d.arrive(study("short", minutes=20.0, sla=1440.0, rank=2, at=1.0), 1.0)
    assert chosen(d, "r1", 2.0) == "short"
    assert chosen(d, "r1", 15.0) is None


def test_a_reader_off_duty_or_reading_starts_nothing() -> None:
    d = dispatcher(("r1", rights("WY")))
    d.arrive(study("a"), 0.0)
    d.set_available("r1", False)
    assert chosen(d, "r1", 1.0) is None
    d.set_available("r1", True)
    d.arrive(study("b", at=1.0), 1.0)
    d.start("a", "r1", 1.0)
    assert chosen(d, "r1", 2.0) is None


def test_a_study_handed_back_is_never_offered_to_that_reader_again() -> None:
    d = dispatcher(("r1", rights("WY")), ("r2", rights("WY")))
    d.arrive(study("a"), 0.0)
    d.start("a", "r1", 0.0)
    d.give_back("a")
    d.exclude("a", "r1")
    assert chosen(d, "r1", 1.0) is None
    assert chosen(d, "r2", 1.0) == "a"


def test_a_pinned_study_goes_only_to_its_reader() -> None:
    d = dispatcher(("r1", rights("WY")), ("r2", rights("WY")))
    d.arrive(study("a"), 0.0)
    d.pin("a", "r2")
    assert chosen(d, "r1", 1.0) is None
    assert chosen(d, "r2", 1.0) == "a"


def test_rights_that_lapse_before_the_read_ends_bar_it() -> None:
    d = dispatcher(("r1", rights("WY")))
    d.set_rights(
        "r1",
        Rights({"WY": 5.0}, {"wy-1": FOREVER}, frozenset(), frozenset()),
    )
    d.arrive(study("a"), 0.0)
    assert chosen(d, "r1", 0.0) is None


# ----- the forecast agrees with the choice --------------------------------------------------
def test_each_free_readers_forecast_starts_with_their_choice() -> None:
    d = dispatcher(("r1", rights("WY", "CO")), ("r2", rights("CO")))
    for i, (klass, rank) in enumerate([(CO, 0), (WY, 0), (CO, 2), (WY, 1), (CO, 1)]):
        d.arrive(study(f"s{i}", klass, rank=rank, at=float(i)), float(i))
    plan = forecast(d, 5.0)
    for reader in ("r1", "r2"):
        assert plan.worklist(d.readers.index[reader])[0].study == chosen(d, reader, 5.0)
    assert sorted(p.study for p in plan.all()) == sorted(d.waiting())
    assert plan.unplaced == []


def test_the_forecast_plays_reads_back_to_back_and_marks_late_ones() -> None:
    d = dispatcher(("r1", rights("WY")))
    for i in range(4):
        d.arrive(study(f"s{i}", at=0.0, minutes=10.0), 0.0)  # all due at 30
    plan = forecast(d, 0.0)
    queue = plan.worklist(0)
    assert [p.start for p in queue] == [0.0, 10.0, 20.0, 30.0]
    assert [p.late for p in queue] == [False, False, False, True]


# ----- offers: a free reader's next is theirs while they are free ----------------------------
def test_an_offered_study_is_left_to_its_reader_while_they_are_free() -> None:
    d = dispatcher(("r1", rights("WY")), ("r2", rights("WY")))
    d.arrive(study("a"), 0.0)
    d.offer("a", "r1")
    assert chosen(d, "r2", 1.0) is None
    assert chosen(d, "r1", 1.0) == "a"


def test_offers_go_back_to_everyone_when_their_reader_starts_something_else() -> None:
    d = dispatcher(("r1", rights("WY")), ("r2", rights("WY")))
    d.arrive(study("a", rank=2), 0.0)
    d.offer("a", "r1")
    d.arrive(study("stat", at=1.0), 1.0)
    assert chosen(d, "r1", 1.0) == "stat"  # more urgent than what was offered
    d.start("stat", "r1", 1.0)
    assert chosen(d, "r2", 1.0) == "a"


def test_the_forecast_returns_an_unused_offer_to_the_pool() -> None:
    d = dispatcher(("r1", rights("WY")), ("r2", rights("WY")))
    d.arrive(study("routine", rank=2), 0.0)
    d.offer("routine", "r1")
    d.arrive(study("stat", at=0.0), 0.0)
    d.offer("stat", "r1")
    plan = forecast(d, 0.0)
    assert [p.study for p in plan.worklist(0)] == ["stat"]
    assert [p.study for p in plan.worklist(1)] == ["routine"]


def test_a_pinned_study_whose_reader_has_no_stretch_ahead_goes_back_to_everyone() -> None:
    d = dispatcher(("r1", rights("WY")), ("r2", rights("WY")))
    d.arrive(study("a", rank=2, sla=600.0), 0.0)
    d.pin("a", "r2")
    assert d.release_unworkable_holds(10.0) == []  # r2 can still read it
    d.set_shift("r2", math.inf, math.inf)  # their stretch ended and none is ahead
    assert d.release_unworkable_holds(10.0) == ["a"]
    assert chosen(d, "r1", 10.0) == "a"


def test_an_offer_lapses_when_its_reader_could_no_longer_finish_it() -> None:
    d = dispatcher(("r1", rights("WY")), ("r2", rights("WY")))
    d.set_shift("r1", 0.0, 20.0)
    d.arrive(study("a", rank=2, sla=600.0, minutes=16.0), 0.0)
    d.offer("a", "r1")
    assert d.release_unworkable_holds(1.0) == []
    d.release_unworkable_holds(10.0)  # 10 + 16 > 20
    assert chosen(d, "r2", 10.0) == "a"
