"""Every criterion, compiled to SQL, agrees with a brute-force Python reading of the same
tree on a small random association (hypothesis draws the trees), on SQLite and on
PostgreSQL alike; and a tree never reaches another organisation's rows."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lien.search.tree import search
from tests.conftest import make_organization
from tests.search_oracle import CHOICES, CITIES, TODAY, build, evaluate

pytestmark = pytest.mark.django_db

DATE_VALUES = st.one_of(
    st.dates(min_value=TODAY.replace(year=2022), max_value=TODAY.replace(year=2027)).map(
        lambda d: d.isoformat()
    ),
    st.builds(
        lambda n, unit, kind: {"type": kind, "n": n, "unit": unit},
        st.integers(0, 40),
        st.sampled_from(["days", "weeks", "months", "years"]),
        st.sampled_from(["last", "ago", "next"]),
    ),
    st.builds(
        lambda kind, unit: {"type": kind, "unit": unit},
        st.sampled_from(["this", "previous", "following"]),
        st.sampled_from(["week", "month", "year"]),
    ),
    st.builds(lambda year: {"type": "year", "year": year}, st.integers(2022, 2026)),
    st.builds(
        lambda a, b: {
            "type": "between",
            "from": min(a, b).isoformat(),
            "to": max(a, b).isoformat(),
        },
        st.dates(min_value=TODAY.replace(year=2022), max_value=TODAY),
        st.dates(min_value=TODAY.replace(year=2022), max_value=TODAY),
    ),
)
DATE_OPS = st.sampled_from(["in", "not_in", "before", "after", "is_empty", "not_empty"])
NUMBER_OPS = st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"])
TEXT_OPS = st.sampled_from(
    ["contains", "not_contains", "equals", "not_equals", "starts_with", "is_empty", "not_empty"]
)


def _text_node(field: str, samples: list[str]):
    return st.builds(
        lambda op, value: {"field": field, "op": op, "value": value}, TEXT_OPS,
        st.sampled_from([s for s in samples if s] + ["an", "e", "Jean", "É"]),
    )  # fmt: skip


def _date_node(field: str, nullable: bool = True):
    ops = DATE_OPS if nullable else st.sampled_from(["in", "not_in", "before", "after"])
    return st.builds(lambda op, value: {"field": field, "op": op, "value": value}, ops, DATE_VALUES)


def criteria(data):
    """A strategy of single criteria over the data set's own ids."""
    labels, groups = data.label_ids, data.group_ids
    some = lambda ids: st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids), unique=True)  # noqa: E731
    interaction_where = st.fixed_dictionaries(
        {},
        optional={
            "types": some(data.type_ids),
            "labels": some(data.interaction_label_ids),
            "status": st.lists(st.sampled_from(["active", "passive"]), min_size=1, unique=True),
            "period": DATE_VALUES,
        },
    )
    payment_where = st.fixed_dictionaries(
        {},
        optional={
            "kinds": st.lists(
                st.sampled_from(["don", "adhesion", "billetterie"]), min_size=1, unique=True
            ),
            "campaigns": some(data.campaign_ids),
            "statuses": st.lists(
                st.sampled_from(["paye", "rembourse", "en_attente"]), min_size=1, unique=True
            ),
            "period": DATE_VALUES,
            "role": st.sampled_from(["payer", "beneficiary"]),
        },
    )
    aggregate_value = {
        "count": st.integers(0, 6), "gap": st.integers(0, 400),
        "total": st.sampled_from([0, 5, 20, 50, 120.5, 400]),
        "max": st.sampled_from([0, 5, 20, 50, 120.5, 400]),
    }  # fmt: skip

    def aggregate(prefix: str, where):
        numeric = st.sampled_from(
            ["count", "gap"] if prefix == "interactions" else ["total", "count", "max"]
        )
        by_number = numeric.flatmap(
            lambda m: st.builds(
                lambda op, value, w: {
                    "field": f"{prefix}.{m}",
                    "op": op,
                    "value": value,
                    "where": w,
                },
                st.sampled_from(["gt", "gte", "lt", "lte"]) if m == "gap" else NUMBER_OPS,
                aggregate_value[m],
                where,
            )
        )
        by_date = st.builds(
            lambda m, op, value, w: {
                "field": f"{prefix}.{m}",
                "op": op,
                "value": value,
                "where": w,
            },
            st.sampled_from(["first", "last"]),
            DATE_OPS,
            DATE_VALUES,
            where,
        )
        return st.one_of(by_number, by_date)

    return st.one_of(
        _text_node("first_name", ["Anne", "Élodie", "jean", "Luc"]),
        _text_node("last_name", ["Martin", "lefevre", "Du"]),
        _text_node("email", ["exemple.org", "A@B.FR", "x1"]),
        _text_node("city", CITIES),
        st.builds(
            lambda op, v: {"field": "civility", "op": op, "value": v},
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(["Mme", "M.", "Mx"]), min_size=1, unique=True),
        ),
        _date_node("birth_date"),
        _date_node("created_at", nullable=False),
        st.builds(lambda v: {"field": "email_consent", "op": "is", "value": v}, st.booleans()),
        st.builds(
            lambda op: {"field": "household", "op": op}, st.sampled_from(["is_empty", "not_empty"])
        ),
        st.builds(
            lambda v: {"field": "household", "op": "in", "value": v}, some(data.household_ids)
        ),
        st.builds(
            lambda op, v: {"field": "labels", "op": op, "value": v},
            st.sampled_from(["any", "all", "none"]),
            some(labels),
        ),
        st.builds(
            lambda op, v: {"field": "groups", "op": op, "value": v},
            st.sampled_from(["in", "not_in"]),
            some(groups),
        ),
        st.builds(
            lambda op, w, kinds: {
                "field": "structures",
                "op": op,
                "where": w,
                **(
                    {
                        "value": {
                            "group": "all",
                            "children": [{"field": "kind", "op": "in", "value": kinds}],
                        }
                    }
                    if kinds
                    else {}
                ),
            },
            st.sampled_from(["linked", "not_linked"]),
            st.fixed_dictionaries(
                {}, optional={"role": st.sampled_from(["tré", "Président"]), "main": st.booleans()}
            ),
            st.one_of(
                st.none(),
                st.lists(
                    st.sampled_from(["association", "entreprise", "organisme_public"]),
                    min_size=1,
                    unique=True,
                ),
            ),
        ),
        st.builds(
            lambda op, v: {"field": "custom.age", "op": op, "value": v},
            NUMBER_OPS,
            st.integers(5, 95),
        ),
        st.builds(
            lambda op: {"field": "custom.age", "op": op}, st.sampled_from(["is_empty", "not_empty"])
        ),
        st.builds(
            lambda op, v: {"field": "custom.transport", "op": op, "value": v},
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(CHOICES), min_size=1, unique=True),
        ),
        st.builds(
            lambda op, v: {"field": "custom.moyens", "op": op, "value": v},
            st.sampled_from(["any", "all", "none"]),
            st.lists(st.sampled_from(CHOICES), min_size=1, unique=True),
        ),
        st.builds(
            lambda op: {"field": "custom.moyens", "op": op},
            st.sampled_from(["is_empty", "not_empty"]),
        ),
        _date_node("custom.arrivee"),
        st.builds(lambda v: {"field": "custom.majeur", "op": "is", "value": v}, st.booleans()),
        st.builds(
            lambda op, v: {"field": "custom.surnom", "op": op, "value": v},
            TEXT_OPS,
            st.sampled_from(["dou", "Le Grand", "titi"]),
        ),
        aggregate("interactions", interaction_where),
        aggregate("payments", payment_where),
        st.builds(
            lambda op, v, on: {
                "field": "membership.status",
                "op": op,
                "value": v,
                **({"where": {"on": on}} if on else {}),
            },
            st.sampled_from(["in", "not_in"]),
            st.lists(
                st.sampled_from(["a_jour", "a_renouveler", "expire", "a_venir", "jamais"]),
                min_size=1,
                unique=True,
            ),
            st.one_of(
                st.none(),
                st.dates(
                    min_value=TODAY.replace(year=2024), max_value=TODAY.replace(year=2027)
                ).map(lambda d: d.isoformat()),
            ),
        ),
        _date_node("membership.end"),
        st.builds(
            lambda op, v, w: {
                "field": "emailing",
                "op": op,
                **({"value": v} if v else {}),
                "where": w,
            },
            st.sampled_from(
                ["received", "opened", "clicked", "not_received", "not_opened", "not_clicked"]
            ),
            st.one_of(st.none(), some(data.interaction_label_ids)),
            st.fixed_dictionaries({}, optional={"period": DATE_VALUES}),
        ),
    )


def trees(data):
    return st.recursive(
        criteria(data),
        lambda children: st.builds(
            lambda group, kids: {"group": group, "children": kids},
            st.sampled_from(["all", "any", "none"]),
            st.lists(children, max_size=3),
        ),
        max_leaves=5,
    )


@pytest.fixture(params=[1, 2], ids=["seed1", "seed2"])
def data(request, db):
    organization = make_organization(f"Asso {request.param}", f"a{request.param}@example.org")
    dataset = build(organization, seed=request.param)
    # Another association with the same shapes: never part of any result.
    build(make_organization("Voisins", f"v{request.param}@example.org"), seed=request.param + 10)
    return dataset


def expected_ids(data, tree) -> set[int]:
    return {pk for pk, person in data.people.items() if evaluate(data, person, tree, TODAY)}


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(st.data())
def test_each_criterion_matches_the_python_reading(data, draws):
    node = draws.draw(criteria(data))

    got = set(search(data.organization, node, today=TODAY).values_list("pk", flat=True))

    assert got == expected_ids(data, node), node


def aggregate_shortcuts(data):
    """Criteria the engine answers from per-contact aggregates (Contact.stat_*, the yearly
    interaction counts) rather than from the rows: same meaning, checked the same way."""
    years = st.one_of(
        st.builds(lambda year: {"type": "year", "year": year}, st.integers(2022, 2027)),
        st.builds(lambda kind: {"type": kind, "unit": "year"}, st.sampled_from(
            ["this", "previous", "following"]
        )),
        st.builds(
            lambda a, b: {"type": "between", "from": f"{min(a, b)}-01-01",
                          "to": f"{max(a, b)}-12-31"},
            st.integers(2022, 2027), st.integers(2022, 2027),
        ),
    )  # fmt: skip
    status = st.sampled_from([None, ["active"], "active"])

    def where(period=None, state=None):
        return {
            **({"period": period} if period else {}),
            **({"status": state} if state else {}),
        }

    count = st.builds(
        lambda op, value, period, state: {
            "field": "interactions.count", "op": op, "value": value,
            "where": where(period, state),
        },
        NUMBER_OPS, st.integers(0, 5), st.one_of(st.none(), years), status,
    )  # fmt: skip
    dated = st.builds(
        lambda field, op, value, state: {
            "field": field, "op": op, "value": value,
            "where": where(None, state if field == "interactions.last" else None),
        },
        st.sampled_from(["interactions.first", "interactions.last", "payments.first",
                         "payments.last", "membership.end"]),
        DATE_OPS, DATE_VALUES, status,
    )  # fmt: skip
    amounts = st.builds(
        lambda field, op, value, paid: {
            "field": field, "op": op,
            "value": int(value) if field == "payments.count" else value,
            "where": {"statuses": ["paye"], "role": "payer"} if paid else {},
        },
        st.sampled_from(["payments.total", "payments.count", "payments.max"]),
        NUMBER_OPS, st.sampled_from([0, 1, 5, 20, 50, 120.5, 400]), st.booleans(),
    )  # fmt: skip
    yearly_payments = st.builds(
        lambda field, op, value, kinds, period: {
            "field": field, "op": op,
            "value": int(value) if field == "payments.count" else value,
            "where": {"kinds": kinds or ["don"], **({"period": period} if period else {})}
            if kinds or not period else {"period": period},
        },
        st.sampled_from(["payments.total", "payments.count"]),
        NUMBER_OPS, st.sampled_from([0, 1, 5, 20, 50, 120.5, 400]),
        st.one_of(st.none(), st.lists(st.sampled_from(["don", "adhesion", "billetterie"]),
                                      min_size=1, max_size=2, unique=True)),
        st.one_of(st.none(), years),
    )  # fmt: skip
    gap = st.builds(
        lambda op, days: {"field": "interactions.gap", "op": op, "value": days},
        st.sampled_from(["gt", "gte", "lt", "lte"]), st.integers(0, 400),
    )  # fmt: skip
    membership = st.builds(
        lambda statuses, op, on: {
            "field": "membership.status", "op": op, "value": statuses,
            **({"where": {"on": on}} if on else {}),
        },
        st.lists(st.sampled_from(["a_jour", "a_renouveler", "a_venir", "expire", "jamais"]),
                 min_size=1, unique=True),
        st.sampled_from(["in", "not_in"]), st.one_of(st.none(), DATE_VALUES),
    )  # fmt: skip
    return st.one_of(count, dated, amounts, yearly_payments, gap, membership)


@SETTINGS
@given(st.data())
def test_criteria_read_from_aggregates_match_the_python_reading(data, draws):
    node = draws.draw(aggregate_shortcuts(data))

    got = set(search(data.organization, node, today=TODAY).values_list("pk", flat=True))

    assert got == expected_ids(data, node), node


@SETTINGS
@given(st.data())
def test_nested_trees_match_the_python_reading(data, draws):
    tree = draws.draw(trees(data))
    if "group" not in tree:
        tree = {"group": "all", "children": [tree]}

    got = set(search(data.organization, tree, today=TODAY).values_list("pk", flat=True))

    assert got == expected_ids(data, tree), tree
