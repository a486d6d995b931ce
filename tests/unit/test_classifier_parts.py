"""The classifier's parts on their own: homophone folding, compositional cues, bigram resemblance."""
import re

from services.router.classification import CategoryProfiles, HomophoneFolder, compile_cues, find_cues

SOUNDS = {"垃": "la", "圾": "ji", "及": "ji", "桶": "tong", "可": "ke", "以": "yi", "疑": "yi", "人": "ren"}


def test_a_sound_alike_sharing_a_character_is_read_as_the_word():
    folder = HomophoneFolder(["垃圾桶"], SOUNDS)
    assert folder.fold("垃及桶满了") == ("垃圾桶满了", [{"typed": "垃及桶", "read_as": "垃圾桶"}])


def test_short_words_a_word_spelled_right_and_exceptions_are_left_alone():
    assert HomophoneFolder(["可疑"], SOUNDS).fold("可以")[1] == []  # two characters: too often a real word
    assert HomophoneFolder(["垃圾桶"], SOUNDS).fold("垃圾桶")[1] == []
    assert HomophoneFolder(["垃圾桶"], SOUNDS, exceptions=["垃及桶"]).fold("垃及桶")[1] == []


CUES = compile_cues({
    "fire now": {"category": "safety", "all": [["火星", "烟"], ["冒", "很大"]], "unless": ["烧纸"]},
    "trapped": {"category": "facility", "all": [["电梯"], ["出不来"]]},
})


def names(text, unmasked=None):
    return [m.cue.name for m in find_cues(CUES, text, unmasked)]


def test_a_cue_needs_every_group_in_one_sentence_and_close_together():
    assert names("楼上冒火星了") == ["fire now"]
    assert names("楼上有火星。") == []  # a hazard with no sign of danger now
    assert names("电梯坏了。我出不来") == []  # different sentences
    assert names("电梯" + "，" * 30 + "出不来") == []  # too far apart
    assert names("电梯停了，人出不来") == ["trapped"]


def test_a_cue_is_silenced_by_a_harmless_source_and_reports_where_each_group_matched():
    assert names("有人烧纸，烟很大") == []
    assert names("有人□□，烟很大", unmasked="有人烧纸，烟很大") == []
    match = find_cues(CUES, "好了。电梯里的人出不来")[0]
    assert match.words == ("电梯", "出不来") and match.spans == ((3, 5), (8, 11))


def test_resemblance_prefers_the_category_whose_description_shares_rare_bigrams():
    profiles = CategoryProfiles({"parking": ["早晚高峰堵车，乱停车"], "sanitation": ["垃圾没人清运，小区很脏"]})
    found = profiles.similarity("小区门口高峰时候堵得很")
    assert found["parking"] > found.get("sanitation", 0.0)
    assert profiles.similarity("今天天气不错") == {}
    assert re.fullmatch(r"[\u4e00-\u9fff]+", "高峰")  # bigrams are made of Chinese characters only
