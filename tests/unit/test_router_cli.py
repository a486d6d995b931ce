import json
from pathlib import Path

from click.testing import CliRunner

from services.cli import main

DATA = Path(__file__).resolve().parents[2] / "services" / "router" / "data"


def test_classify_reads_json_lines_and_writes_one_line_per_report():
    stdin = '{"text": "楼道灯坏了好几天了"}\n\n{"text": "瓦斯外洩，整層樓都是味道", "hint": "safety"}\n'
    result = CliRunner().invoke(main, ["classify"], input=stdin)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(l["category"], l["tier"]) for l in lines] == [("facility", "general"), ("safety", "emergency")]
    assert all({"confidence", "explanation"} <= set(l) for l in lines)


def test_classify_rejects_a_line_without_text():
    result = CliRunner().invoke(main, ["classify"], input='{"words": "x"}\n')
    assert result.exit_code != 0 and "line 1" in result.output


def test_evaluate_prints_accuracy_confusion_and_emergency_recall():
    result = CliRunner().invoke(main, ["classify", "--evaluate", str(DATA / "held_out.jsonl")])
    assert result.exit_code == 0, result.output
    for heading in ("category accuracy:", "tier accuracy:", "emergency recall:", "false emergencies:",
                    "per category:", "per tier:", "confusion"):
        assert heading in result.output
