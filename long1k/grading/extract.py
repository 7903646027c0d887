"""Final-answer extraction from long reasoning outputs, rule by rule, each verdict naming its rule.

Where: by default only after the reasoning section (after any reasoning format's `answer_start`
marker: `<|end_of_thought|>`, `</think>`, `<|im_start|>answer`), so that boxes and letters written
while thinking do not count, and a response whose reasoning was opened but never closed (cut off)
has no answer; `anywhere` reads the whole response, as lighteval's and Qwen2.5-Math's graders do.

Math, strongest evidence first: the last complete `\\boxed{}` / `\\fbox{}` (`boxed`); explicit answer
statements ("final answer is", "Answer:", a JSON "answer" field, "the answer is"), each pattern tried
until one captures something usable once markup, `$`, quotes, JSON remains and trailing punctuation
are stripped and a captured sentence is cut to its answer (`statement`); then, in the last lines
only, sentence endings such as "the result is 23." (`sentence_end`) and the last number
(`last_number`). `strict` mode stops after explicit statements.

Letters (multiple choice), strongest first: explicit statements ("the correct answer is (C)",
"Answer: $D$", `\\boxed{D}`, `\\boxed{D. text}`), the last one counting; then a bold span or line that
starts with the letter and its option text (`**D. 17**`, `(B) text`) or ends with it
(`**text (D)**`); then the option text itself when the row carries its choices. Two different letters
stated together as the answer ("A or D") are a hedge: no answer, with that reason. Lowercase letters
count only inside explicit statements and only when set off ("(c)", "c."); nothing defaults to a letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from long1k.boxed import boxed_answers, scan_boxes
from long1k.formats import FORMATS, answer_starts

REASONING_ENDS = answer_starts()
REASONING_OPENS = tuple(fmt.markers[0] for fmt in FORMATS.values() if fmt.markers[0] != fmt.answer_start)
REGIONS = ("after_reasoning", "anywhere")
MODES = ("full", "strict")
LAST_LINES = 3
LETTERS = ("A", "B", "C", "D")


@dataclass(frozen=True)
class ExtractionOptions:
    mode: str = "full"  # full | strict (boxes and explicit statements only)
    region: str = "after_reasoning"  # after_reasoning | anywhere
    choices: tuple[tuple[str, str], ...] = ()  # (letter, option text) of a multiple-choice row


DEFAULT_OPTIONS = ExtractionOptions()


def choice_pairs(choices) -> tuple[tuple[str, str], ...]:
    """A row's `choices` mapping (letter -> option text) as ExtractionOptions holds it."""
    return tuple((str(k), str(v)) for k, v in choices.items()) if isinstance(choices, dict) else ()


@dataclass(frozen=True)
class Extraction:
    answer: str | None
    method: str  # the rule that extracted it, or why nothing was
    detail: str = ""


def answer_region(response: str) -> str:
    """The text after the last end-of-reasoning marker, or the whole response if there is none."""
    cut = max((response.rfind(marker) + len(marker) for marker in REASONING_ENDS if marker in response), default=0)
    return response[cut:]


def region_of(response: str, options: ExtractionOptions) -> str | None:
    """Where the answer may stand; None when the reasoning was opened and never closed (cut off)."""
    if options.region == "anywhere":
        return response
    if not any(marker in response for marker in REASONING_ENDS) and any(m in response for m in REASONING_OPENS):
        return None
    return answer_region(response)


# ----------------------------------------------------------------------------------------------- math

_STATEMENTS = (
    re.compile(r"final\s+answers?\b\s*(?:is|are|:)?\s*[:*\s]*(?P<a>[^\n]*)(?:\n\s*(?P<b>[^\n]+))?", re.IGNORECASE),
    re.compile(r"^[^\w\n]*answer[^\w\n]*[:：](?P<a>[^\n]*)(?:\n\s*(?P<b>[^\n]+))?", re.IGNORECASE | re.MULTILINE),
    re.compile(r"[\"']answer[\"']\s*:\s*(?P<a>\"[^\"\n]*\"|[^,}\n]+)", re.IGNORECASE),
    re.compile(r"\banswer\s+is\s*[:*\s]*(?P<a>[^\n]*)", re.IGNORECASE),
)
_SENTENCE_END = re.compile(r"\b(?:is|equals|be|=)\s*:?\s*\**\$*\s*(?P<a>[^\s$*]+(?:\s*[^\s$*]+)?)\s*\$*\**\s*[.!]?\s*$",
                           re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_INLINE_MATH = re.compile(r"\$([^$]+)\$|\\\((.+?)\\\)")
_TEXT_WRAPPER = re.compile(r"^\\(?:text|textbf|mathrm|mathbf)\{(.*)\}$")
_FINISHED = set(".!?)]}$*`\"'0123456789")
_MATHY = re.compile(r"[\d\\^_=+\-*/()]")


def _strip_json_remains(text: str) -> str:
    """Trailing quotes, commas and closing brackets left by JSON; a brace closing LaTeX (`\\sqrt{3}`) stays."""
    while True:
        before = text
        text = text.rstrip().rstrip(",\"'`").rstrip()
        for close, open_ in (("}", "{"), ("]", "[")):
            if text.endswith(close) and text.count(close) > text.count(open_):
                text = text[:-1]
        if text == before:
            return text


def clean_capture(text: str) -> str:
    """Markup, `$`, quotes, JSON remains and trailing punctuation stripped; a sentence cut to its answer."""
    text = text.strip()
    if math := _INLINE_MATH.findall(text):
        text = next(part for part in math[-1] if part)
    text = text.replace("\\[", "").replace("\\]", "")
    for _ in range(3):
        text = text.strip().strip("*`\"'").strip()
        text = _strip_json_remains(text)  # `16",` or `"}`
        text = text.rstrip(".;:!, ").strip("$").strip()
    words = text.split()
    sentence = len(re.findall(r"(?<![\\A-Za-z])[A-Za-z]{3,}", text)) >= 3  # words, not LaTeX commands
    if sentence and _NUMBER.fullmatch(words[0].rstrip(",.")):  # "80 positive integers ..." -> 80
        return clean_capture(words[0])
    if " is " in text:  # "in base 3 is -221" -> -221
        tail = text.rsplit(" is ", 1)[1].strip()
        if usable(tail) and len(tail.split()) <= 4:
            return clean_capture(tail)
    if sentence:  # otherwise a sentence gives its last number
        numbers = _NUMBER.findall(text)
        return numbers[-1].rstrip(",.") if numbers else ""
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    return text


def usable(text: str) -> bool:
    return bool(text) and (bool(_MATHY.search(text)) or len(text.split()) <= 3)


def _captured_answer(match: re.Match) -> str | None:
    """The usable answer a statement captured: on its own line, else on the next."""
    for group in ("a", "b"):
        captured = match.groupdict().get(group)
        if captured and usable(answer := clean_capture(captured)):
            return answer
    return None


def _statement(region: str) -> str | None:
    for pattern in _STATEMENTS:
        for match in reversed(list(pattern.finditer(region))):
            if (answer := _captured_answer(match)) is not None:
                return answer
    return None


def stated_answers(region: str) -> list[tuple[int, str]]:
    """(position, answer) of every usable explicit answer statement, in the order written; one per line
    (the strongest pattern's: "the final answer is" before "answer is")."""
    by_line: dict[int, tuple[int, str]] = {}
    for pattern in _STATEMENTS:
        for match in pattern.finditer(region):
            line = region.count("\n", 0, match.start())
            if line not in by_line and (answer := _captured_answer(match)) is not None:
                by_line[line] = (match.start(), answer)
    return sorted(by_line.values())


def _last_lines(region: str) -> list[str]:
    return [line for line in region.strip().splitlines() if line.strip()][-LAST_LINES:]


def extract_math(response: str, options: ExtractionOptions = DEFAULT_OPTIONS) -> Extraction:
    region = region_of(response, options)
    if region is None:
        return Extraction(None, "answer_section_cut_off")
    boxes, unclosed = scan_boxes(region)
    if boxes:
        return Extraction(boxes[-1], "boxed")
    if unclosed:  # cut off while writing the answer: nothing before it is the answer
        return Extraction(None, "unclosed_box")
    if (answer := _statement(region)) is not None:
        return Extraction(answer, "statement")
    if options.mode == "strict":
        return Extraction(None, "none")
    if region.rstrip()[-1:] not in _FINISHED:  # stops mid-sentence: the last number is not an answer
        return Extraction(None, "none")
    lines = _last_lines(region)
    for line in reversed(lines):
        if (match := _SENTENCE_END.search(line)) and usable(answer := clean_capture(match.group("a"))) \
                and _MATHY.search(answer):
            return Extraction(answer, "sentence_end")
    for line in reversed(lines):
        if numbers := _NUMBER.findall(line):
            return Extraction(clean_capture(numbers[-1]), "last_number")
    return Extraction(None, "none")


def unwrap(answer: str) -> str:
    answer = answer.strip().strip("$*").strip()
    while match := _TEXT_WRAPPER.match(answer):
        answer = match.group(1).strip()
    return answer


def extract_integer(response: str, options: ExtractionOptions = DEFAULT_OPTIONS) -> Extraction:
    found = extract_math(response, options)
    if found.answer is None:
        return found
    text = unwrap(found.answer).replace(",", "").replace("\\!", "").replace(" ", "")
    text = text.split("=")[-1].removesuffix("^\\circ").removesuffix("^{\\circ}")
    if re.fullmatch(r"-?\d+", text):
        return Extraction(str(int(text)), found.method)
    return Extraction(None, f"{found.method}_not_integer")


# -------------------------------------------------------------------------------------------- letters

_UPPER = r"(?P<l>[ABCD])(?![A-Za-z0-9])"
_SET_OFF_LOWER = r"(?:\((?P<lp>[abcd])\)|(?P<lb>[abcd])(?=\s*[.)]?\s*(?:$|\n)))"
_LEAD = r"[\s:*_$({\[\\]*(?:\\text(?:bf)?\{)?\s*(?:(?i:option|choice)\s*)?[\s(*$]*"
_ADVERB = r"(?:\s+(?:therefore|thus|then|likely|clearly|indeed|probably))?"
_LETTER_STATEMENTS = (
    # "the (correct/best/final) answer is X", "Answer: $D$", "**Answer:**\n\nD"
    re.compile(r"(?i:\banswers?\b[^.\n]{0,80}?(?:\bis\b|\bwould\s+be\b|\bmust\s+be\b|\bshould\s+be\b|[:=：])"
               + _ADVERB + r")\s*[:：]?" + _LEAD + r"(?:" + _UPPER + r"|" + _SET_OFF_LOWER + r")"),
    # "the best option for ... is **X. text**" (a verb: "Option A:" is a heading, not a statement)
    re.compile(r"(?i:\b(?:option|choice)s?\b[^.\n]{0,80}?(?:\bis\b|\bwould\s+be\b|\bmust\s+be\b|\bshould\s+be\b)"
               + _ADVERB + r")\s*[:：]?" + _LEAD + r"(?:" + _UPPER + r"|" + _SET_OFF_LOWER + r")"),
    # "I choose X", "(A) is correct", "option A is the correct answer"
    re.compile(r"(?i:\bI\s+(?:choose|select|pick))" + _LEAD + _UPPER),
    re.compile(r"(?<![A-Za-z])\(?(?P<l>[ABCD])\)?\**\s+(?i:is\s+(?:the\s+)?(?:correct|right|best)\b)"),
    # "... formula is D. C6H10O2", "... is most likely A: text", "... is:\n\nA. 8 Gpc": a letter with its
    # option text after "is"
    re.compile(r"(?i:\bis(?:\s+(?:most\s+)?(?:likely|probably|clearly))?)\s*:?\s*\**\s*\(?(?P<l>[ABCD])[.):]\s+\S"),
    # "... is option C.", "this matches option D", "which corresponds to option C"
    re.compile(r"(?i:\b(?:is(?:\s+(?:most\s+)?(?:likely|probably|clearly))?|match(?:es)?(?:\s+with)?|"
               r"corresponds?\s+to|consistent\s+with|agrees?\s+with)\s+(?:option|choice))\s+\**\(?(?P<l>[ABCD])"
               r"(?![A-Za-z0-9])"),
    # "option D: <text> is the most appropriate answer"
    re.compile(r"(?i:\b(?:option|choice))\s+\(?(?P<l>[ABCD])\b[^\n]{0,240}?(?i:\bis\s+the\s+(?:most\s+)?"
               r"(?:correct|right|best|appropriate)\b)"),
)
_PARENTHETICAL = re.compile(r"\((?i:option|choice)\s+(?P<l>[ABCD])\)")
_HEDGE = re.compile(r"[\s*)$}.]*(?:,\s*)?(?i:or|and|/)\s*(?i:option\s*|choice\s*)?[(*$\s]*(?P<l>[ABCD])(?![A-Za-z])")
_OPTION_START = re.compile(r"^\s*(?:[-*>#]+\s*)?\**\s*\(?(?P<l>[ABCD])\s*[.):]\**\s+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?P<t>(?:[^*\n]|\*(?!\*)){1,200})\*\*")
_BOLD_START = re.compile(r"^\s*\(?(?P<l>[ABCD])(?:\s*[.):]|\s*$)")
_BOLD_END = re.compile(r"\((?P<l>[ABCD])\)\s*[.:]?\s*$")
_LONE_LETTER = re.compile(r"^\W*(?P<l>[ABCD])\W*$", re.MULTILINE)


def _statement_letter(match: re.Match) -> str:
    return (match.group("l") or match.groupdict().get("lp") or match.groupdict().get("lb") or "").upper()


def _box_letters(region: str) -> list[tuple[int, str]]:
    found = []
    position = 0
    for box in boxed_answers(region):
        position = region.find(box, position)
        text = unwrap(box).strip("() *.")
        head = re.match(r"^\(?([ABCD])(?:\)|\.|:|\s|\\,|$)", text)
        if text in LETTERS or head:
            found.append((position, text if text in LETTERS else head.group(1)))
    return found


def _stated_letters(region: str) -> list[tuple[int, str, str | None]]:
    """(position, letter, hedged-with letter) of every explicit statement, in order."""
    stated = []
    for pattern in _LETTER_STATEMENTS:
        for match in pattern.finditer(region):
            letter = _statement_letter(match)
            hedge = _HEDGE.match(region, match.end())
            other = hedge.group("l") if hedge and hedge.group("l") != letter else None
            stated.append((match.start(), letter, other))
    stated += [(position, letter, None) for position, letter in _box_letters(region)]
    return sorted(stated)


def _option_lines(region: str) -> list[tuple[int, str]]:
    """Lines starting with a letter and option text, leaving out listings of the options (three or more
    different letters on lines next to each other)."""
    lines = [(m.start(), region.count("\n", 0, m.start()), m.group("l")) for m in _OPTION_START.finditer(region)]
    listing = set()
    for i in range(len(lines) - 2):
        window = lines[i : i + 3]
        if len({letter for *_, letter in window}) == 3 and window[2][1] - window[0][1] <= 4:
            listing.update(position for position, *_ in window)
    return [(p, letter) for p, _, letter in lines if p not in listing]


def _bold_letters(region: str) -> list[tuple[int, str]]:
    found = []
    for match in _BOLD.finditer(region):
        text = match.group("t")
        if (head := _BOLD_START.match(text)) or (head := _BOLD_END.search(text)):
            found.append((match.start(), head.group("l")))
    return found


def _normalise(text: str) -> str:
    return re.sub(r"[\s$\\{}*]+", " ", text).strip().lower().rstrip(".")


def _choice_text_letter(region: str, choices: tuple[tuple[str, str], ...]) -> str | None:
    tail = _normalise("\n".join(_last_lines(region)))
    hits = {letter for letter, text in choices if len(_normalise(text)) >= 2 and _normalise(text) in tail}
    return hits.pop() if len(hits) == 1 else None


def extract_letter(response: str, options: ExtractionOptions = DEFAULT_OPTIONS) -> Extraction:
    region = region_of(response, options)
    if region is None:
        return Extraction(None, "answer_section_cut_off")
    if stated := _stated_letters(region):
        _, letter, other = stated[-1]
        if other:
            return Extraction(None, "hedge", f"hedge between {letter} and {other}: no answer")
        return Extraction(letter, "letter_statement")
    if options.mode == "strict":
        return Extraction(None, "none")
    candidates = sorted(_bold_letters(region) + _option_lines(region)
                        + [(m.start(), m.group("l")) for m in _PARENTHETICAL.finditer(region)])
    if candidates:
        return Extraction(candidates[-1][1], "letter_option_line")
    if lone := list(_LONE_LETTER.finditer(region)):
        return Extraction(lone[-1].group("l"), "letter_option_line")
    if options.choices and (letter := _choice_text_letter(region, options.choices)):
        return Extraction(letter, "choice_text")
    return Extraction(None, "none")
