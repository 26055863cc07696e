"""The practice page: self-contained, and worked through in a real headless browser with right and wrong answers."""

import json
import os
import re

import pytest

from chainrule.viz import NonFiniteWarning, practice, practice_html, write_practice_html
from test_viz_html import BROWSER_ARGS, CHROMIUM

SIMPLE = ("(x+y)*z", {"x": -2, "y": 5, "z": -4})
SIMPLE_ANSWERS = ["3", "-12", "-4", "-4", "3", "3", "1", "-4", "1", "-4"]


def page_data(page):
    return json.loads(re.search(r'<script id="practice-data" type="application/json">(.*?)</script>', page,
                                re.S).group(1))


def test_page_is_self_contained_and_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot
    page = practice_html(practice(*SIMPLE))
    assert page.startswith("<!DOCTYPE html>") and "Practice: f = (x+y)*z" in page
    assert not re.search(r"<(script|img|link|iframe)[^>]*\b(src|href)=", page) and "http" not in page
    data = page_data(page)
    assert [q["answer"] for q in data["questions"]] == [float(a) for a in SIMPLE_ANSWERS]
    assert data["questions"][2]["hints"] == ["The rule: d/du (u*v) = v", "With the numbers: v = -4.00",
                                             "The answer is -4.00."]


def test_non_finite_answers_travel_as_text():
    with pytest.warns(NonFiniteWarning, match="the log gate gives -inf"):
        data = page_data(practice_html(practice("log(x)*2", {"x": 0})))
    assert data["questions"][0]["answer"] == "-inf"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no browser at {CHROMIUM} (apt-get install chromium)")
def test_working_through_the_page_in_a_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    path = write_practice_html(practice(*SIMPLE), tmp_path / "practice.html")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"file://{path}")
            questions = page.locator("li.question")
            assert questions.count() == 10
            assert page.inner_text("#score") == "Score: 0 of 10 right the first time (0 of 10 done)"

            def answer(number, text, press_enter=False):
                box = questions.nth(number - 1).locator("input")
                box.fill(text)
                if press_enter:
                    box.press("Enter")
                else:
                    questions.nth(number - 1).locator("button.check").click()
                return questions.nth(number - 1).locator(".feedback div").last.inner_text()

            def state(number):
                return questions.nth(number - 1).get_attribute("data-state")

            assert answer(1, "3") == "right: 3.00" and state(1) == "right"
            assert questions.nth(0).locator("input").is_disabled()
            assert answer(2, "12") == "not right. The rule: the mul gate computes u*v" and state(2) == "open"
            assert answer(2, "twelve").startswith("Not a number")
            assert answer(2, "-11.99", press_enter=True) == "right: -12.00" and state(2) == "right"
            assert questions.nth(1).get_attribute("data-attempts") == "2"  # "twelve" was not an attempt
            assert answer(3, "3") == "not right. The rule: d/du (u*v) = v"
            assert answer(3, "3") == "not right. With the numbers: v = -4.00"
            assert answer(3, "3") == "not right. The answer is -4.00." and state(3) == "shown"
            assert page.get_attribute("#score", "data-first") == "1"
            assert page.get_attribute("#score", "data-done") == "3"
            assert not page.is_visible("#explanation")

            for number, text in enumerate(SIMPLE_ANSWERS[3:], 4):
                assert answer(number, text).startswith("right")
            assert page.inner_text("#score") == "Score: 8 of 10 right the first time (10 of 10 done)"
            assert page.is_visible("#explanation")
            assert "Backward pass, from the output (-12.00)" in page.inner_text("#explanation")
            page.screenshot(path=str(tmp_path / "practice.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "practice.png").stat().st_size > 10_000
