from datetime import timedelta

import pytest
import yaml

from services.router.routing_rules import RoutingRulesError, default_path, load_rules, parse_rules


@pytest.fixture
def raw():
    with open(default_path(), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_the_default_rules_load_with_their_documented_values():
    rules = load_rules()
    assert rules.deadline("general", "unit", "acknowledge") == timedelta(hours=4)
    assert rules.deadline("coordination", "grid", "acknowledge") == timedelta(hours=4)
    assert rules.deadline("coordination", "branch", "acknowledge") == timedelta(hours=8)
    assert rules.deadline("emergency", "department", "acknowledge") == timedelta(minutes=30)
    assert rules.working_time == {"general": True, "coordination": True, "concentrated": True, "emergency": False}
    assert rules.department_for("utility", "家里停电了") == "power"
    assert rules.department_for("utility", "水压太低") == "water"
    assert rules.department_for("sanitation", "垃圾") is None


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(version=2), "version"),
    (lambda r: r["deadlines"]["general"]["default"].update(acknowledge="soon"), "deadlines.general.default.acknowledge"),
    (lambda r: r["deadlines"].update(urgent={"default": {}}), "unknown entries urgent"),
    (lambda r: r["deadlines"]["general"].update(floor={"acknowledge": "1h", "resolve": "1d"}), "unknown entries floor"),
    (lambda r: r["departments"]["security"].update(default="army"), "'army' is not listed"),
    (lambda r: r["working_time"].update(emergency="yes"), "working_time.emergency"),
    (lambda r: r.update(triage_below=3), "triage_below"),
])
def test_a_bad_rules_file_is_refused_with_a_message_naming_the_entry(raw, change, message):
    change(raw)
    with pytest.raises(RoutingRulesError, match=message):
        parse_rules(raw)


def test_an_unreadable_file_names_itself(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: [1", encoding="utf-8")
    with pytest.raises(RoutingRulesError, match="rules.yaml: not valid YAML"):
        load_rules(str(bad))


def test_the_duplicates_window_defaults_to_seven_days_and_a_bad_one_is_refused(raw):
    assert load_rules().duplicates.window == timedelta(days=7)
    del raw["duplicates"]
    assert parse_rules(raw).duplicates.window == timedelta(days=7)
    raw["duplicates"] = {"window": "36h"}
    assert parse_rules(raw).duplicates.window == timedelta(hours=36)
    for bad, message in (({"window": "soon"}, "duplicates.window"), ({"span": "1d"}, "unknown entries span"),
                         ("7d", "'duplicates' must be a mapping")):
        raw["duplicates"] = bad
        with pytest.raises(RoutingRulesError, match=message):
            parse_rules(raw)
