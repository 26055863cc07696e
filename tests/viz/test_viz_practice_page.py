"""The practice page: self-contained, and worked through in a real headless browser with right and wrong answers."""

import json
import os
import re

import pytest
from test_viz_html import CHROMIUM, open_in_browser

from chainrule.viz import NonFiniteWarning, practice, practice_html, write_practice_html

SIMPLE = ("(x+y)*z", {"x": -2, "y": 5, "z": -4})
SIMPLE_ANSWERS = ["3", "-12", "-4", "-4", "3", "3", "1", "-4", "1", "-4"]


def page_data(page):
    return json.loads(
        re.search(r'<script id="practice-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )


def test_page_is_self_contained_and_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot
    page = practice_html(practice(*SIMPLE))
    assert page.startswith("<!DOCTYPE html>") and "Practice: f = (x+y)*z" in page
    assert not re.search(r"<(script|img|link|iframe)[^>]*\b(src|href)=", page) and "http" not in page
    data = page_data(page)
    assert [q["answer"] for q in data["questions"]] == [float(a) for a in SIMPLE_ANSWERS]
    assert data["questions"][2]["hints"] == [
        "The rule: d/du (u*v) = v",
        "With the numbers: v = -4.00",
        "The answer is -4.00.",
    ]


def test_non_finite_answers_travel_as_text():
    with pytest.warns(NonFiniteWarning, match="the log gate gives -inf"):
        data = page_data(practice_html(practice("log(x)*2", {"x": 0})))
    assert data["questions"][0]["answer"] == "-inf"


def test_every_question_has_a_box_on_its_wire():
    data = page_data(practice_html(practice(*SIMPLE)))
    boxes = {(q["x"], q["y"]) for q in data["questions"]}
    assert len(boxes) == 10  # one place per question, none shared
    by_kind = {kind: [q for q in data["questions"] if q["kind"] == kind] for kind in ("value", "local", "sent")}
    assert [len(v) for v in by_kind.values()] == [2, 4, 4]
    # question 3 (d/du of the mul) and 4 (sent to u) sit side by side under the wire that carries x+y,
    # and question 1 (x+y's value) above it
    one, three, four = data["questions"][0], data["questions"][2], data["questions"][3]
    assert three["y"] == four["y"] > one["y"] and three["x"] < four["x"]
    assert one["x"] < three["x"] + 64 and one["x"] + 64 > four["x"]


def test_a_graph_too_big_for_a_picture_is_refused():
    formula = "+".join(f"x{i}*y{i}" for i in range(31))
    values = {f"{v}{i}": 1.0 for i in range(31) for v in "xy"}
    with pytest.raises(ValueError, match="practice page: the graph has 61 gates; a picture of more than 60"):
        practice_html(practice(formula, values))


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no browser at {CHROMIUM} (apt-get install chromium)")
def test_working_through_the_page_in_a_browser(tmp_path):
    path = write_practice_html(practice(*SIMPLE), tmp_path / "practice.html")
    with open_in_browser(path, {"width": 1100, "height": 900}) as page:
        boxes = page.locator("#picture input.box")
        questions = page.locator("li.question")
        assert boxes.count() == 10 and questions.count() == 10
        assert page.inner_text("#score") == "Score: 0 of 10 right the first time (0 of 10 done)"
        picture = page.locator("#picture svg").bounding_box()
        for k in range(10):  # every box lies on the picture
            box = boxes.nth(k).bounding_box()
            assert picture["x"] <= box["x"] and box["x"] + box["width"] <= picture["x"] + picture["width"]
            assert picture["y"] <= box["y"] and box["y"] + box["height"] <= picture["y"] + picture["height"]

        def answer(number, text, press_enter=True):
            box = page.locator(f'#picture input.box[data-number="{number}"]')
            box.fill(text)
            if press_enter:
                box.press("Enter")
            else:
                box.focus()
                page.click("#check")
            return page.inner_text("#message")

        def state(number):
            return questions.nth(number - 1).get_attribute("data-state")

        page.locator('input.box[data-number="1"]').focus()
        assert page.inner_text("#current-prompt") == "1. forward, add: x = -2.00, y = 5.00; x+y = ?"
        assert answer(1, "-2+5") == "right: 3.00" and state(1) == "right"  # arithmetic counts
        assert page.evaluate("document.activeElement.dataset.number") == "2"  # on to the next box
        assert answer(2, "12") == "not right. The rule: the mul gate computes u*v" and state(2) == "open"
        assert answer(2, "alert(1)").startswith("Not a number")  # read by the parser, never evaluated
        assert answer(2, "2^3").startswith("Not a number")
        assert answer(2, "3*(-4)", press_enter=False) == "right: -12.00" and state(2) == "right"
        assert questions.nth(1).get_attribute("data-attempts") == "2"  # text that is no number is no attempt
        assert answer(3, "3") == "not right. The rule: d/du (u*v) = v"
        assert answer(3, "(1+2)") == "not right. With the numbers: v = -4.00"
        assert answer(3, "3") == "not right. The answer is -4.00." and state(3) == "shown"
        assert page.input_value('input.box[data-number="3"]') == "-4.00"
        assert page.evaluate("document.activeElement.dataset.number") == "4"
        page.locator('input.box[data-number="3"]').click()  # back to a finished one: nothing left to check
        assert page.is_disabled("#check") and page.inner_text("#message") == "not right. The answer is -4.00."
        assert not page.is_editable('input.box[data-number="3"]')
        assert page.get_attribute("#score", "data-first") == "1"
        assert page.get_attribute("#score", "data-done") == "3"
        assert not page.is_visible("#explanation")

        questions.nth(4).click()  # the list takes you to the box
        assert page.evaluate("document.activeElement.dataset.number") == "5"
        for number, text in enumerate(SIMPLE_ANSWERS[3:], 4):
            assert answer(number, text).startswith("right")
        assert page.inner_text("#score") == "Score: 8 of 10 right the first time (10 of 10 done)"
        assert page.is_visible("#explanation")
        assert "Backward pass, from the output (-12.00)" in page.inner_text("#explanation")
        assert "not right. The answer is -4.00." in questions.nth(2).locator(".feedback").inner_text()
        page.screenshot(path=str(tmp_path / "practice.png"), full_page=True)
    assert (tmp_path / "practice.png").stat().st_size > 10_000
